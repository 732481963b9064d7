"""Steps the system scenarios share: link a registry, wait for the store, read topics and the API."""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

from schemas.events import Event, ScanCompleted, ScanFailed, ScanRequested, ScanSkipped
from schemas.topics import Topics
from services.common.store.postgres import Store
from tests.pipeline.harness import read_topic
from tests.system.kubelet import Kubelet

__all__ = ["api_get", "assay", "counts", "registry_digest", "registry_manifest", "wait_for_images"]

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
            images = await store.images()
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


async def counts(bootstrap: str) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """(scan requests per digest, scan results per digest) on the topics so far."""
    requests = await read_topic(bootstrap, Topics.SCAN_REQUESTS)
    results = await read_topic(bootstrap, Topics.DETECTIONS)
    requested = collections.Counter(e.digest for _, e in requests if isinstance(e, ScanRequested))
    done = collections.Counter(
        key for key, e in results if isinstance(e, ScanCompleted | ScanFailed | ScanSkipped)
    )
    return requested, done


async def api_get(listen: str, path: str) -> Any:
    """GET ``path`` from the read API at ``listen`` (HOST:PORT), decoded."""
    async with aiohttp.ClientSession() as session, session.get(f"http://{listen}{path}") as response:
        assert response.status == 200, await response.text()
        return json.loads(await response.text())


def of_type(events: list[tuple[str, Event]], kind: type) -> list[Any]:
    return [e for _, e in events if isinstance(e, kind)]
