"""The API on a real HTTP server on 127.0.0.1, over a real PostgreSQL seeded by the store's writers.

One API token per role is stored for each test (``Api.tokens``); the client session sends the
viewer's by default. Requested rescans are published on an in-memory bus (``Api.bus``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from services.api.app import make_app
from services.api.auth.access import Access
from services.api.auth.roles import ROLES
from services.api.auth.tokens import Tokens
from services.api.settings import AuthConfig
from services.api.store import Reads
from services.common.bus.memory import MemoryBus
from services.common.store import Store
from tests.api.fake_oidc import FakeIssuer
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
    await store.builds.record_analysis_version("test-analysis-1")  # what an engine records at start
    tokens = {role: (await Tokens(store.pool).create(f"test-{role}", role))[0] for role in ROLES}
    bus = MemoryBus()
    await bus.start()
    app = make_app(Reads(store.pool), Access(AuthConfig(rate_burst=10_000), store.pool), bus=bus)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
        async with aiohttp.ClientSession(headers=viewer) as http:
            url = str(server.make_url("")).rstrip("/")
            yield Api(url=url, http=http, store=store, findings=findings, tokens=tokens, bus=bus)
    finally:
        await server.close()


@pytest.fixture
async def issuer() -> AsyncIterator[FakeIssuer]:
    """A fake OpenID Connect provider on 127.0.0.1 (discovery, JWKS, authorize, token)."""
    fake = FakeIssuer()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.issuer = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        await server.close()
