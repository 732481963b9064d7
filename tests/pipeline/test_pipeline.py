"""The distributed pipeline end to end: inventory → dedupe → engine → policy, each its own process.

Real components only: Debian's docker-registry, the Tansu broker (or ASSAY_KAFKA_BOOTSTRAP),
PostgreSQL (embedded or ASSAY_PG_DSN), and the `assay` command in subprocesses.
"""

from __future__ import annotations

import asyncio
import collections
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from schemas.events import FindingEvent, ScanCompleted, ScanFailed, ScanRequested
from schemas.topics import Topics
from services.common.store.postgres import Store
from services.dedupe.store.states import image_states
from services.policy.store import stored_findings
from tests.harness.registry import RegistryServer
from tests.pipeline.harness import Pipeline, pipeline_env, prepare, read_topic, spans_by_trace

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(600)]

DONE = {"scanned", "failed"}


async def _wait_all_done(dsn: str, expected: int, limit_s: float, pipeline: Pipeline) -> list[dict]:
    store = await Store.connect(dsn)
    try:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            images = await image_states(store.pool)
            if len(images) == expected and all(i["status"] in DONE for i in images):
                return images
            for name, proc in pipeline.procs.items():
                if name != "inventory" and proc.poll() is not None:
                    raise AssertionError(f"{name} exited {proc.returncode}:\n{pipeline.log(name)[-3000:]}")
            await asyncio.sleep(0.5)
        raise AssertionError(f"not all images done in {limit_s}s: {await image_states(store.pool)}")
    finally:
        await store.close()


async def _stored(dsn: str) -> tuple[list[dict], list]:
    store = await Store.connect(dsn)
    try:
        return await image_states(store.pool), await stored_findings(store.pool)
    finally:
        await store.close()


def _by_digest(images: list[dict]) -> dict[str, dict]:
    return {i["image_ref"].split("/", 1)[1].split("@")[0]: i for i in images}


async def test_up_scans_every_digest_once_and_publishes_findings(
    registry: RegistryServer, pg_dsn: str, broker: str, vuln_db: Path, tmp_path: Path
) -> None:
    """`assay up --until-idle` on real endpoints: four digests under five tags, each scanned once."""
    pipe = pipeline_env(
        pg_dsn=pg_dsn, bootstrap=broker, registry_host=registry.host, db=vuln_db, work=tmp_path
    )
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.cli.main", "up", "--until-idle", "--idle-timeout", "300"],
        env=pipe.env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert f"read API on http://{pipe.env['ASSAY_API_LISTEN']}" in proc.stderr  # and it stayed up

    images, findings = await _stored(pg_dsn)
    by_repo = _by_digest(images)
    assert sorted(by_repo) == ["fixture/alpine", "fixture/broken", "fixture/corrupt", "fixture/debian"]
    assert by_repo["fixture/debian"]["status"] == "scanned"
    assert sorted(by_repo["fixture/debian"]["environments"]) == [f"registry:{registry.host}"]
    assert by_repo["fixture/alpine"]["status"] == "scanned"
    assert by_repo["fixture/corrupt"]["status"] == "scanned"
    broken = by_repo["fixture/broken"]
    assert broken["status"] == "failed"
    assert "layer 2/2 sha256:" in broken["error"]
    assert "while reading" in broken["error"]
    assert f"{registry.host}/fixture/broken@" in broken["error"]  # names the image

    # each digest was requested and scanned exactly once, although debian has two tags
    requests = await read_topic(broker, Topics.SCAN_REQUESTS)
    assert collections.Counter(e.digest for _, e in requests if isinstance(e, ScanRequested)) == {
        i["digest"]: 1 for i in images
    }
    detections = await read_topic(broker, Topics.DETECTIONS)
    done = collections.Counter(key for key, e in detections if isinstance(e, ScanCompleted | ScanFailed))
    assert done == {i["digest"]: 1 for i in images}

    # findings: in PostgreSQL and on the findings topic, keyed by finding id, no duplicates
    published = [(k, e) for k, e in await read_topic(broker, Topics.FINDINGS) if isinstance(e, FindingEvent)]
    assert all(k == e.finding.finding_id for k, e in published)
    ids = [e.finding.finding_id for _, e in published]
    assert len(ids) == len(set(ids))
    assert {f.finding_id for f in findings} == set(ids)
    debian = by_repo["fixture/debian"]["digest"]
    debian_cves = {e.finding.id for _, e in published if e.digest == debian and e.finding.category == "CVE"}
    assert {"CVE-2024-2398", "CVE-2023-5678"} <= debian_cves
    assert any(e.finding.category == "ImageScan" and e.digest == debian for _, e in published)
    alerts = await read_topic(broker, Topics.ALERTS)
    assert debian in {k for k, _ in alerts}
    assert "findings" in proc.stdout
    assert "CVE-2024-2398" in proc.stdout

    # one image's journey is one trace: inventory → dedupe → engine → policy
    traces = spans_by_trace(pipe.spans)
    journeys = [
        spans
        for spans in traces.values()
        if any(s["attributes"].get("assay.image.digest") == debian for s in spans)
    ]
    services = {s["service"] for spans in journeys for s in spans}
    assert {"inventory", "dedupe", "engine", "policy"} <= services
    assert any(
        {s["service"] for s in spans} >= {"inventory", "dedupe", "engine", "policy"} for spans in journeys
    )


async def test_killing_the_engine_mid_scan_loses_no_image(
    registry: RegistryServer, pg_dsn: str, broker: str, vuln_db: Path, tmp_path: Path
) -> None:
    """SIGKILL the engine while it works; a new engine picks the work up and nothing is lost or doubled.

    Lost: every image reaches its final status, Debian's scan completes once (the killed one
    produced nothing) and its known CVEs are stored. Doubled: one scan request per digest, one
    completion per digest, and no finding published as ``new`` twice.
    """
    pipe = pipeline_env(
        pg_dsn=pg_dsn, bootstrap=broker, registry_host=registry.host, db=vuln_db, work=tmp_path
    )
    await prepare(pipe)
    try:
        pipe.service("policy")
        pipe.service("dedupe")
        engine = pipe.service("engine")
        pipe.service("inventory", "--once")
        # kill the engine the moment it starts on the Debian image (a scan of a few seconds)
        deadline = time.monotonic() + 180
        while "scanning " + registry.host + "/fixture/debian@" not in pipe.log("engine"):
            assert time.monotonic() < deadline, pipe.log("engine")
            await asyncio.sleep(0.05)
        engine.send_signal(signal.SIGKILL)
        engine.wait()
        assert "scanned " + registry.host + "/fixture/debian@" not in pipe.log("engine")
        pipe.service("engine")  # a replacement worker joins the same group
        images = await _wait_all_done(pg_dsn, 4, 300, pipe)
    finally:
        pipe.stop_all()
    assert sorted(i["status"] for i in images) == ["failed", "scanned", "scanned", "scanned"]
    assert pipe.log("engine").count("scanned " + registry.host + "/fixture/debian@") == 1  # the replacement
    debian = _by_digest(images)["fixture/debian"]["digest"]
    requests = await read_topic(broker, Topics.SCAN_REQUESTS)
    assert collections.Counter(e.digest for _, e in requests if isinstance(e, ScanRequested)) == {
        i["digest"]: 1 for i in images
    }
    detections = await read_topic(broker, Topics.DETECTIONS)
    done = collections.Counter(key for key, e in detections if isinstance(e, ScanCompleted | ScanFailed))
    assert done == {i["digest"]: 1 for i in images}
    store = await Store.connect(pg_dsn)
    try:
        debian_findings = await stored_findings(store.pool, debian)
    finally:
        await store.close()
    assert {"CVE-2024-2398", "CVE-2023-5678"} <= {f.id for f in debian_findings}
    _, findings = await _stored(pg_dsn)
    assert len({f.finding_id for f in findings}) == len(findings)
    published = [e for _, e in await read_topic(broker, Topics.FINDINGS) if isinstance(e, FindingEvent)]
    new = collections.Counter(e.finding.finding_id for e in published if e.state == "new")
    assert set(new) == {f.finding_id for f in findings}
    assert max(new.values()) == 1  # a redelivered scan adds no duplicate finding
