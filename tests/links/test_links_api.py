"""The link routes of the API on a real HTTP server over a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from openapi_spec_validator import validate

from services.api.app import make_app
from services.api.auth.access import Access
from services.api.auth.tokens import Tokens
from services.api.settings import AuthConfig
from services.api.store import Reads
from services.common.store import Store


@pytest.fixture
async def api(pg_dsn: str) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    store = await Store.connect(pg_dsn)
    token, _ = await Tokens(store.pool).create("links-operator", "operator")
    server = TestServer(make_app(Reads(store.pool), Access(AuthConfig(), store.pool)), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
            yield str(server.make_url("")).rstrip("/"), http
    finally:
        await server.close()
        await store.close()


async def test_link_list_unlink_and_the_last_link_conflict(api: tuple[str, aiohttp.ClientSession]) -> None:
    url, http = api
    async with http.put(f"{url}/v1/registries/reg.example.com:5000/links/prod-eu") as r:
        assert r.status == 201
        assert await r.json() == {"registry": "reg.example.com:5000", "clusters": ["prod-eu"]}
    async with http.put(f"{url}/v1/registries/registry:reg.example.com:5000/links/cluster:prod-eu") as r:
        assert r.status == 200  # already linked, prefixes accepted
    async with http.put(f"{url}/v1/registries/reg.example.com:5000/links/prod-us") as r:
        assert r.status == 201
        assert (await r.json())["clusters"] == ["prod-eu", "prod-us"]
    async with http.get(f"{url}/v1/registries") as r:
        assert r.status == 200
        assert await r.json() == {
            "items": [{"registry": "reg.example.com:5000", "clusters": ["prod-eu", "prod-us"]}]
        }
    async with http.delete(f"{url}/v1/registries/reg.example.com:5000/links/prod-eu") as r:
        assert r.status == 204
    async with http.delete(f"{url}/v1/registries/reg.example.com:5000/links/prod-us") as r:
        assert r.status == 409
        body = await r.json()
        assert body["status"] == 409
        assert "last link" in body["error"]
    async with http.delete(f"{url}/v1/registries/reg.example.com:5000/links/nowhere") as r:
        assert r.status == 404
    async with http.put(f"{url}/v1/registries/bad host/links/prod") as r:
        assert r.status == 400
        assert "registry" in (await r.json())["error"]
    async with http.get(f"{url}/v1/registries") as r:
        assert (await r.json())["items"] == [{"registry": "reg.example.com:5000", "clusters": ["prod-us"]}]


async def test_openapi_document_describes_the_link_routes(api: tuple[str, aiohttp.ClientSession]) -> None:
    url, http = api
    async with http.get(f"{url}/openapi.json") as r:
        doc = await r.json()
    validate(doc)
    route = doc["paths"]["/v1/registries/{registry}/links/{cluster}"]
    assert set(route) == {"put", "delete"}
    assert "409" in route["delete"]["responses"]
    assert doc["paths"]["/v1/registries"]["get"]["operationId"] == "listRegistries"
    assert "RegistryList" in doc["components"]["schemas"]
