"""The read API on a real HTTP server on 127.0.0.1, over a real PostgreSQL seeded by the store's writers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from services.api.app import make_app
from services.common.store import Store
from tests.api.seed import IMAGES, OUS, Api, seeded_findings
from tests.harness.seed import evaluate, sight


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


@pytest.fixture
async def api(store: Store) -> AsyncIterator[Api]:
    findings = seeded_findings()
    for digest, (status, error, locations) in IMAGES.items():
        for env, repo, tag in locations:
            await sight(
                store,
                digest=digest,
                image_ref=f"127.0.0.1:5000/{repo}@{digest}",
                environment=env,
                repository=repo,
                tag=tag,
                ou=OUS[env],
            )
        await store.set_status(digest, status, scan_id=f"scan-{digest[7:15]}", error=error)  # type: ignore[arg-type]
        if status == "scanned":
            await store.save_scan(f"scan-{digest[7:15]}", digest, b'{"ref": "x"}', b"[]", b"[]", "test")
    for digest, items in findings.items():
        await evaluate(store, digest, items, evaluation_id=f"seed:{digest}")
    server = TestServer(make_app(store.reads), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield Api(url=str(server.make_url("")).rstrip("/"), http=http, store=store, findings=findings)
    finally:
        await server.close()
