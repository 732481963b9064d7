"""Hostile images through the real broker: an ``assay service engine`` process consuming from Tansu.

The other hostile tests call the scanner (``assay scan``) or the engine's handler on the memory
bus; here the requests travel as they do when deployed: ``ScanRequested`` records published on
``assay.scan-requests.v1`` of an embedded Tansu broker, read by the engine service as its own OS
process, which pulls each image from Debian's ``docker-registry`` and publishes its answer on
``assay.detections.v1``. The hostile images are the cases of ``generate.py`` that a registry can
hold (skopeo itself refuses to push the ones whose index or manifest it cannot parse); beside
them, what only the bus can carry: requests naming local targets, and a record that is not an
event at all. Each hostile image ends as a ``ScanFailed`` naming the image (the budget, where one
ran out) or a bounded ``ScanCompleted``; the local targets are refused; the garbage record goes to
the dead-letter topic; the good image published last is scanned; and the engine process never
died (the same process answered everything).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas import ScanCompleted, ScanFailed, ScanRequested, Topics, encode_event
from schemas.events import DeadLetter
from services.common.bus.kafka import KafkaBus
from tests.harness.broker import kafka_bootstrap
from tests.harness.process import stop_process
from tests.harness.registry import RegistryServer, push_image, registry_server, require_tools
from tests.hostile.generate import CASES
from tests.hostile.test_isolation import good_layout
from tests.pipeline.harness import read_topic

pytestmark = [pytest.mark.pipeline, pytest.mark.timeout(900)]

# the cases of generate.py that skopeo can push (an OCI layout it can read)
PUSHED = (
    "nested-config",
    "wrong-types-history",
    "wrong-types-diff-ids",
    "non-utf8-name-in-layer",
    "gzip-bomb-1gib",
    "pnpm-lock-yaml-aliases",
    "apk-db-garbage",
    "dpkg-status-continuations",
    "dpkg-lists-8x32mib",
    "jar-fan-out",
    "secrets-private-key-of-spaces",
)
LOCAL = {"local-dir": "dir:/etc", "local-archive": "docker-archive:/etc/passwd"}


@pytest.fixture(scope="module")
def hostile_images(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RegistryServer, dict[str, str]]]:
    """A registry holding the pushable hostile cases and a good image: scan id -> reference."""
    require_tools("docker-registry", "skopeo")
    root = tmp_path_factory.mktemp("hostile")
    with registry_server(root / "registry") as server:
        refs: dict[str, str] = {}
        for name in PUSHED:
            target = CASES[name](root / name)
            push_image(server, f"{target}:latest", f"hostile/{name}:1")
            refs[name] = f"{server.host}/hostile/{name}:1"
        push_image(server, f"oci:{good_layout(root / 'good')}:latest", "good/app:1")
        refs["good"] = f"{server.host}/good/app:1"
        yield server, refs


def _engine(bootstrap: str, server: RegistryServer, db: Path, work: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update(
        ASSAY_KAFKA_BOOTSTRAP=bootstrap,
        ASSAY_DATA_DIR=str(work / "data"),
        ASSAY_DB_PATH=str(db),
        ASSAY_REGISTRIES=json.dumps([{"host": server.host, "insecure": True}]),
    )
    with (work / "engine.log").open("wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "service", "engine"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=work,
        )


async def _publish(bootstrap: str, refs: dict[str, str]) -> None:
    bus = KafkaBus(bootstrap, client_id="hostile-test")
    await bus.start()
    try:
        await bus.publish(Topics.SCAN_REQUESTS, "garbage", b"\xff\x00 not an event {")
        for scan_id, ref in refs.items():  # the hostile ones first: the good one must still be scanned
            event = ScanRequested(scan_id=scan_id, digest=f"sha256:{scan_id}", image_ref=ref)
            await bus.publish(Topics.SCAN_REQUESTS, event.digest, encode_event(event))
    finally:
        await bus.stop()


async def test_hostile_requests_over_the_broker_end_clearly_and_the_engine_lives(
    hostile_images: tuple[RegistryServer, dict[str, str]], vuln_db: Path, tmp_path: Path
) -> None:
    server, pushed = hostile_images
    refs = {**{k: v for k, v in pushed.items() if k != "good"}, **LOCAL, "good": pushed["good"]}
    with kafka_bootstrap(tmp_path / "broker") as bootstrap:
        engine = _engine(bootstrap, server, vuln_db, tmp_path)
        try:
            await _publish(bootstrap, refs)
            deadline = time.monotonic() + 600
            while True:
                answers = {
                    e.scan_id: e
                    for _, e in await read_topic(bootstrap, Topics.DETECTIONS, quiet_s=0.5)
                    if isinstance(e, ScanCompleted | ScanFailed)
                }
                if set(answers) >= set(refs) or engine.poll() is not None:
                    break
                assert time.monotonic() < deadline, f"answered {sorted(answers)} of {sorted(refs)}"
                await asyncio.sleep(2.0)
            alive = engine.poll() is None
            dead_letters = [
                e for _, e in await read_topic(bootstrap, Topics.DLQ) if isinstance(e, DeadLetter)
            ]
        finally:
            stop_process(engine)
    log = (tmp_path / "engine.log").read_text(errors="replace")
    assert alive, log[-3000:]  # one engine process answered every record
    assert "Traceback" not in log
    assert set(answers) == set(refs)
    for name in (*PUSHED, *LOCAL):
        answer = answers[name]
        if isinstance(answer, ScanFailed):
            assert refs[name] in answer.error, answer.error  # names the image
    assert "scan budget layer_bytes_max exceeded" in getattr(answers["gzip-bomb-1gib"], "error", "")
    for name in LOCAL:
        assert isinstance(answers[name], ScanFailed)
        assert "refused" in answers[name].error
    assert len(dead_letters) == 1  # the record that is no event
    good = answers["good"]
    assert isinstance(good, ScanCompleted)
    assert [p.name for p in good.packages] == ["tool"]
