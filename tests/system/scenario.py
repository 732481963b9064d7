"""Steps the system scenarios share: link a registry, wait for the store, read topics and the API."""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from schemas import Finding
from schemas.events import Event, FindingEvent, ScanCompleted, ScanFailed, ScanRequested, ScanSkipped
from schemas.topics import Topics
from services.common.bus.claimcheck import ClaimCheck
from services.common.objectstore import DirectoryObjectStore
from services.common.store.postgres import Store
from services.dedupe.store.states import image_states
from services.policy.store import stored_findings
from tests.harness.fake_kube import FakeKube
from tests.pipeline.harness import read_topic
from tests.system.cluster import pod
from tests.system.endpoints import API_TOKEN
from tests.system.kubelet import Kubelet

__all__ = [
    "api_call",
    "api_get",
    "assay",
    "counts",
    "registry_digest",
    "registry_manifest",
    "wait_for_images",
]

SETTLED = {"scanned", "failed", "too_large"}


def assay(*args: str, env: Mapping[str, str]) -> str:
    """Run the ``assay`` command (the operator's CLI) with ``env``; its stdout, or fail with stderr."""
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "assay"), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"assay {' '.join(args)}: {proc.stderr[-3000:]}"
    return proc.stdout


def registry_manifest(host: str, repo_tag: str) -> bytes:
    """The manifest the registry serves for ``repo_tag``, as served (skopeo inspect --raw)."""
    return subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--raw", f"docker://{host}/{repo_tag}"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout


def registry_digest(host: str, repo_tag: str) -> str:
    """The manifest digest the registry serves for ``repo_tag``."""
    return "sha256:" + hashlib.sha256(registry_manifest(host, repo_tag)).hexdigest()


async def wait_for_images(
    dsn: str, kubelet: Kubelet, expected: int, *, limit_s: float = 420, settled: set[str] = SETTLED
) -> list[dict[str, Any]]:
    """Wait until the store knows ``expected`` images, each in a ``settled`` status."""
    deadline = time.monotonic() + limit_s
    store = await Store.connect(dsn)
    try:
        while True:
            images = await image_states(store.pool)
            if len(images) == expected and all(i["status"] in settled for i in images):
                return images
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"images after {limit_s}s: {[(i['image_ref'], i['status']) for i in images]}\n"
                    f"events: {kubelet.events}\nengine log: {kubelet.logs('assay-engine')[-3000:]}"
                )
            await asyncio.sleep(1.0)
    finally:
        await store.close()


def claim_check(objects: Path) -> ClaimCheck:
    """The claim check of a deployment whose object store is the directory ``objects`` (the shared
    volume): scan results over its threshold travel there, the record carrying a reference."""
    return ClaimCheck(DirectoryObjectStore(objects))


async def counts(
    bootstrap: str, objects: Path | None = None, *, quiet_s: float = 2.0
) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """(scan requests per digest, scan results per digest) on the topics so far; ``objects``: the
    deployment's object store directory, when it has one."""
    checks = claim_check(objects) if objects is not None else None
    requests = await read_topic(bootstrap, Topics.SCAN_REQUESTS, quiet_s=quiet_s, claim_check=checks)
    results = await read_topic(bootstrap, Topics.DETECTIONS, quiet_s=quiet_s, claim_check=checks)
    requested = collections.Counter(e.digest for _, e in requests if isinstance(e, ScanRequested))
    done = collections.Counter(
        key for key, e in results if isinstance(e, ScanCompleted | ScanFailed | ScanSkipped)
    )
    return requested, done


async def api_call(listen: str, method: str, path: str, *, token: str = API_TOKEN) -> tuple[int, Any]:
    """``method`` ``path`` on the API at ``listen`` (HOST:PORT) as the bootstrap admin: (status, body)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.request(method, f"http://{listen}{path}") as response,
    ):
        text = await response.text()
        return response.status, json.loads(text) if text else None


async def api_get(listen: str, path: str) -> Any:
    """GET ``path`` from the read API at ``listen`` (HOST:PORT), decoded."""
    status, body = await api_call(listen, "GET", path)
    assert status == 200, body
    return body


def of_type(events: list[tuple[str, Event]], kind: type) -> list[Any]:
    return [e for _, e in events if isinstance(e, kind)]


async def assert_nothing_lost_or_doubled(
    bootstrap: str, dsn: str, digests: Sequence[str], *, quiet_s: float = 2.0
) -> dict[str, list[Finding]]:
    """After faults: every open finding of ``digests`` in the store reached ``assay.findings.v1``,
    none was published as new twice, and one scan was applied per digest. The stored findings.

    A finding reaches the topic as ``new`` or, when the policy died between storing and
    publishing, as ``unchanged`` from the redelivered scan (the FindingEvent contract: consumers
    upsert new, changed and unchanged); one resolved later (a rematch) is closed for consumers too.
    The system's own findings (advisory data not built yet: stale) are not the images' and are left
    out.
    """
    events = [e for _, e in await read_topic(bootstrap, Topics.FINDINGS, quiet_s=quiet_s)]
    ours = [e for e in events if isinstance(e, FindingEvent) and e.digest in digests]
    new = collections.Counter(e.finding.finding_id for e in ours if e.state == "new")
    last = {e.finding.finding_id: e.state for e in ours}  # a consumer's view: the last event wins
    store = await Store.connect(dsn)
    try:
        by_digest = {d: await stored_findings(store.pool, d) for d in digests}
        scans = await store.pool.fetch("SELECT digest, count(*) AS n FROM scans GROUP BY digest")
    finally:
        await store.close()
    stored = {f.finding_id for findings in by_digest.values() for f in findings}
    delivered = {finding for finding, state in last.items() if state in ("new", "changed", "unchanged")}
    assert delivered == stored  # none lost on the way to the topic (nor left open there)
    assert max(new.values()) == 1  # none published as new twice
    assert {r["digest"]: r["n"] for r in scans} == dict.fromkeys(digests, 1)  # one scan applied each
    return by_digest


def first_wave(kube: FakeKube, host: str) -> tuple[str, str, str]:
    """The fault scenarios' first pods (web and agent running); the three digests (web, agent,
    report), the report's pod coming in a later wave."""
    web, agent, report = (
        registry_digest(host, r) for r in ("shop/web:1.0", "ops/agent:3.20", "batch/report:2")
    )
    kube.add_pod(pod("shop", "web-1", image=f"{host}/shop/web:1.0", digest=web, deployment="web"))
    kube.add_pod(pod("ops", "agent-1", image=f"{host}/ops/agent:3.20", digest=agent))
    return web, agent, report


async def until_logged(fleet: Kubelet, workload: str, text: str, limit_s: float = 300) -> None:
    """Until a container of ``workload`` has logged ``text``."""
    deadline = time.monotonic() + limit_s
    while text not in fleet.logs(workload):
        assert time.monotonic() < deadline, f"{workload} never logged {text!r}: {fleet.events}"
        await asyncio.sleep(0.05)
