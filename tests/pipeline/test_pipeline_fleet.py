"""The pipeline at fleet scale, end to end on real components: Too Large, unscannable sightings,
organisational units, poison events, rescans.

Services run as `assay service NAME` processes against Debian's docker-registry (behind a counting
proxy where a test must prove what was pulled), the broker and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import collections
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from schemas import encode_event
from schemas.events import (
    DeadLetter,
    FindingEvent,
    ImageDiscovered,
    ScanCompleted,
    ScanRequested,
    ScanSkipped,
)
from schemas.topics import Topics
from services.api.store import FindingFilter, ImageFilter, Reads
from services.common.bus.kafka import KafkaBus
from services.common.store.postgres import Store
from services.dedupe.store.states import image_states
from tests.harness.registry import RegistryServer, manifest_descriptor
from tests.pipeline.counting_proxy import counting_proxy
from tests.pipeline.harness import Pipeline, pipeline_env, prepare, read_topic

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(600)]

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
FARGATE_ONLY = "sha256:" + "f" * 64  # a digest seen only in a Fargate task: never pullable from here


async def _publish(bootstrap: str, records: list[tuple[str, bytes]]) -> None:
    bus = KafkaBus(bootstrap, client_id="assay-test-writer")
    await bus.start()
    try:
        for key, value in records:
            await bus.publish(Topics.INVENTORY, key, value)
    finally:
        await bus.stop()


async def _wait_images(
    dsn: str, pipe: Pipeline, settled: dict[str, set[str]], limit_s: float = 300
) -> dict[str, dict]:
    """Wait until each digest in ``settled`` has one of its statuses; every image by digest."""
    store = await Store.connect(dsn)
    try:
        deadline = time.monotonic() + limit_s
        while True:
            images = {i["digest"]: i for i in await image_states(store.pool)}
            if all(images.get(d, {}).get("status") in want for d, want in settled.items()):
                return images
            for name, proc in pipe.procs.items():
                if name != "inventory" and proc.poll() is not None:
                    raise AssertionError(f"{name} exited {proc.returncode}:\n{pipe.log(name)[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"not settled in {limit_s}s: {images}")
            await asyncio.sleep(0.5)
    finally:
        await store.close()


def _manifest(registry: RegistryServer, repository: str, tag: str) -> dict:
    request = urllib.request.Request(
        f"{registry.url}/v2/{repository}/manifests/{tag}",
        headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json, "
            "application/vnd.docker.distribution.manifest.v2+json"
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


async def test_too_large_images_are_never_pulled_beyond_the_manifest(
    registry: RegistryServer, pg_dsn: str, broker: str, vuln_db: Path, tmp_path: Path
) -> None:
    """With max_image_size_mb=1 the Debian image (tens of MB of layers) is Too Large: the engine
    reads its manifest and config through the proxy and no layer blob; a sighting that carries a
    size over the limit is marked by dedupe without any scan request."""
    manifest = _manifest(registry, "fixture/debian", "latest")
    layers = [layer["digest"] for layer in manifest["layers"]]
    assert sum(layer["size"] for layer in manifest["layers"]) > 1 << 20
    debian, _, _ = manifest_descriptor(registry, "fixture/debian", "latest")
    huge = "sha256:" + "e" * 64
    with counting_proxy(registry.host) as proxy:
        pipe = pipeline_env(
            pg_dsn=pg_dsn, bootstrap=broker, registry_host=proxy.host, db=vuln_db, work=tmp_path
        )
        pipe.env["ASSAY_MAX_IMAGE_SIZE_MB"] = "1"
        await prepare(pipe)
        sighting = ImageDiscovered(
            environment="cluster:big",
            registry=ECR,
            repository="ml/model",
            digest=huge,
            size_bytes=5 << 30,
            ou="research",
        )
        await _publish(broker, [(huge, encode_event(sighting))])
        try:
            for name in ("policy", "dedupe", "engine"):
                pipe.service(name)
            pipe.service("inventory", "--once")
            done = {"scanned", "failed", "too_large"}
            images = await _wait_images(pg_dsn, pipe, {huge: {"too_large"}, debian: done}, 300)
            others = [d for d in images if d not in (huge, debian)]
            images = await _wait_images(pg_dsn, pipe, {d: done for d in others}, 300)
        finally:
            pipe.stop_all()
        got = proxy.paths("GET")
    assert images[debian]["status"] == "too_large"
    assert "over max_image_size_mb=1" in images[debian]["error"]
    assert images[huge]["status"] == "too_large"
    assert "5368709120 bytes" in images[huge]["error"]
    # the engine read the manifest through the proxy, and not one layer blob of the image
    assert any(p.startswith("/v2/fixture/debian/manifests/") for p in got)
    assert not [p for p in got if any(p.endswith(f"/blobs/{layer}") for layer in layers)]
    # the small images went through the same engine and were pulled in full
    alpine_layers = [layer["digest"] for layer in _manifest(registry, "fixture/alpine", "3.20")["layers"]]
    assert any(p.endswith(f"/blobs/{alpine_layers[0]}") for p in got)

    requests = [e for _, e in await read_topic(broker, Topics.SCAN_REQUESTS) if isinstance(e, ScanRequested)]
    assert huge not in {e.digest for e in requests}  # dedupe decided: no scan requested
    skipped = [e for _, e in await read_topic(broker, Topics.DETECTIONS) if isinstance(e, ScanSkipped)]
    assert [(e.digest, e.status) for e in skipped] == [(debian, "too_large")]
    assert skipped[0].size_bytes == sum(layer["size"] for layer in manifest["layers"])


async def test_unscannable_sightings_poison_events_and_ous(
    registry: RegistryServer, pg_dsn: str, broker: str, vuln_db: Path, tmp_path: Path
) -> None:
    """Fargate sightings link without a scan; the same digest seen in a registry is claimed and
    scanned once and its findings apply to the Fargate environment too. Poison records on the
    inventory topic (undecodable bytes; a well-formed sighting without a digest) land in the DLQ
    with their errors, and the records behind them on the same partition are still handled."""
    debian, _, _ = manifest_descriptor(registry, "fixture/debian", "latest")
    pipe = pipeline_env(
        pg_dsn=pg_dsn, bootstrap=broker, registry_host=registry.host, db=vuln_db, work=tmp_path
    )
    pipe.env["ASSAY_REGISTRIES"] += ";ou=platform"
    await prepare(pipe)

    def fargate(digest: str) -> bytes:
        event = ImageDiscovered(
            environment="ecs:prod",
            registry=ECR,
            repository="payments/api",
            digest=digest,
            tag="v7",
            ou="payments",
            scannable=False,
        )
        return encode_event(event)

    bad_sighting = ImageDiscovered(
        environment="ecs:prod", registry=ECR, repository="payments/api", digest="v7"
    )
    await _publish(
        broker,
        [
            (debian, b"\x00\xffnot json at all"),
            (debian, encode_event(bad_sighting)),
            (debian, fargate(debian)),
            (FARGATE_ONLY, fargate(FARGATE_ONLY)),
        ],
    )
    try:
        pipe.service("engine")  # dedupe claims under the analysis version an engine records at start
        pipe.service("dedupe")
        # the Fargate sightings are linked and wait: Pending Scan, nothing requested
        images = await _wait_images(pg_dsn, pipe, {debian: {"pending"}, FARGATE_ONLY: {"pending"}}, 120)
        assert images[debian]["requested_at"] is None
        assert not images[debian]["scannable"]
        pipe.service("policy")
        pipe.service("inventory", "--once")
        images = await _wait_images(pg_dsn, pipe, {debian: {"scanned"}}, 300)
    finally:
        pipe.stop_all()

    assert images[FARGATE_ONLY]["status"] == "pending"
    assert images[FARGATE_ONLY]["requested_at"] is None
    assert images[debian]["image_ref"].startswith(f"{registry.host}/fixture/debian@")  # the pullable one
    assert "ecs:prod" in images[debian]["environments"]
    assert images[debian]["ous"] == ["payments", "platform"]
    requests = [e for _, e in await read_topic(broker, Topics.SCAN_REQUESTS) if isinstance(e, ScanRequested)]
    counts = collections.Counter(e.digest for e in requests)
    assert counts[debian] == 1
    assert FARGATE_ONLY not in counts
    completed = [e for _, e in await read_topic(broker, Topics.DETECTIONS) if isinstance(e, ScanCompleted)]
    assert collections.Counter(e.image.digest for e in completed)[debian] == 1

    # poison: both records dead-lettered by dedupe with their error, the sightings behind them handled
    letters = [e for _, e in await read_topic(broker, Topics.DLQ) if isinstance(e, DeadLetter)]
    mine = [letter for letter in letters if letter.key == debian]
    assert sorted(letter.error.split(":")[0] for letter in mine) == ["InvalidSighting", "undecodable"]
    assert all(letter.service == "dedupe" and letter.topic == Topics.INVENTORY for letter in mine)
    assert b"not json at all" in next(x.payload for x in mine if x.error.startswith("undecodable"))
    assert "not a manifest digest: 'v7'" in next(x.error for x in mine if x.error.startswith("Invalid"))

    # findings are per digest: the Fargate environment and the payments OU see Debian's findings
    store = await Store.connect(pg_dsn)
    try:
        findings = await Reads(store.pool).findings(FindingFilter(environments=["ecs:prod"], limit=1000))
        by_ou = await Reads(store.pool).findings(FindingFilter(ous=["payments"], limit=1000))
        payments = await Reads(store.pool).images(ImageFilter(ous=["payments"]))
        pending = await Reads(store.pool).images(ImageFilter(statuses=["pending"]))
    finally:
        await store.close()
    published = [e for _, e in await read_topic(broker, Topics.FINDINGS) if isinstance(e, FindingEvent)]
    debian_ids = {e.finding.finding_id for e in published if e.digest == debian}
    assert debian_ids
    assert {f.finding_id for f in findings} == debian_ids
    assert {f.finding_id for f in by_ou} == debian_ids
    assert sorted(i.digest for i in payments) == sorted([debian, FARGATE_ONLY])
    # (the registry's other images may still be on their way: only these two are this test's)
    assert [i.digest for i in pending if i.digest in (debian, FARGATE_ONLY)] == [FARGATE_ONLY]


async def test_rescan_requests_a_new_scan_id_and_the_policy_records_it(
    registry: RegistryServer, pg_dsn: str, broker: str, vuln_db: Path, tmp_path: Path
) -> None:
    """`assay rescan DIGEST` after a scan: a second request with reason=requested and a new scan id,
    scanned again, the image scanned under the new id; unknown digests are reported."""
    alpine, _, _ = manifest_descriptor(registry, "fixture/alpine", "3.20")
    pipe = pipeline_env(
        pg_dsn=pg_dsn, bootstrap=broker, registry_host=registry.host, db=vuln_db, work=tmp_path
    )
    await prepare(pipe)
    try:
        for name in ("policy", "dedupe", "engine"):
            pipe.service(name)
        pipe.service("inventory", "--once")
        first = (await _wait_images(pg_dsn, pipe, {alpine: {"scanned"}}, 300))[alpine]
        rescan = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "services.cli.main", "rescan", alpine, "sha256:" + "0" * 64],
            env=pipe.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rescan.returncode == 1, rescan.stderr  # one digest unknown
        assert f"requested {alpine}" in rescan.stdout
        assert "no such image" in rescan.stderr

        async def rescanned() -> dict:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                image = (await _wait_images(pg_dsn, pipe, {alpine: {"scanned", "pending", "scanning"}}))[
                    alpine
                ]
                if image["status"] == "scanned" and image["scan_id"] != first["scan_id"]:
                    return image
                await asyncio.sleep(0.5)
            raise AssertionError("not rescanned")

        second = await rescanned()
    finally:
        pipe.stop_all()
    assert second["scan_generation"] == first["scan_generation"] + 1
    requests = [
        e
        for _, e in await read_topic(broker, Topics.SCAN_REQUESTS)
        if isinstance(e, ScanRequested) and e.digest == alpine
    ]
    assert [(e.reason, e.scan_id) for e in requests] == [
        ("new", first["scan_id"]),
        ("requested", second["scan_id"]),
    ]
    completed = [e for _, e in await read_topic(broker, Topics.DETECTIONS) if isinstance(e, ScanCompleted)]
    assert sorted(e.scan_id for e in completed if e.image.digest == alpine) == sorted(
        [first["scan_id"], second["scan_id"]]
    )
