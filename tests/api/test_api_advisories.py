"""``GET /v1/advisories``: the current advisory build, its age and sources, and whether it is stale."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from services.common.store import Store
from services.common.store.builds import AdvisoryBuild
from services.policy.freshness import check_freshness
from tests.api.seed import BOOTSTRAP_HEADERS, bootstrapped_app


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


async def _get(url: str) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession(headers=BOOTSTRAP_HEADERS) as http,
        http.get(f"{url}/v1/advisories") as response,
    ):
        return response.status, await response.json()


async def test_the_api_reports_the_current_build_its_age_sources_and_staleness(store: Store) -> None:
    server = TestServer(bootstrapped_app(store), host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    try:
        status, body = await _get(url)
        assert status == 404
        assert "updater" in str(body["error"])

        now = await store.builds.now()
        checked = now - dt.timedelta(hours=3)
        await store.builds.record(
            AdvisoryBuild(
                build_id="20261201T000000Z-0123456789abcdef",
                object_key="advisories/20261201T000000Z-0123456789abcdef/vulndb.sqlite",
                sha256="ab" * 32,
                built_at=checked - dt.timedelta(hours=1),
                checked_at=checked,
                size_bytes=4096,
                sources=["osv:https://osv.example", "kev:kev.json"],
                advisories=1234,
            )
        )
        status, body = await _get(url)
        assert status == 200
        assert body["build_id"] == "20261201T000000Z-0123456789abcdef"
        assert body["sources"] == ["osv:https://osv.example", "kev:kev.json"]
        assert (body["advisories"], body["size_bytes"], body["published"]) == (1234, 4096, False)
        assert 3 * 3600 - 60 < float(body["age_seconds"]) < 3 * 3600 + 60  # type: ignore[arg-type]
        assert body["stale"] is False

        await check_freshness(store, interval_s=3600)  # the policy service's look: 3 h > 2 intervals
        status, body = await _get(url)
        assert body["stale"] is True
    finally:
        await server.close()
