"""The access log of every served app names the path, never the query string (an OIDC ``code``,
a paging cursor or a token can ride there)."""

from __future__ import annotations

import asyncio
import logging
import socket

import aiohttp
import pytest
from aiohttp import web

from services.common.serve import serve_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_query_string_never_reaches_the_access_log(caplog: pytest.LogCaptureFixture) -> None:
    async def callback(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/auth/callback", callback)
    log = logging.getLogger("assay.test.access")
    listen = f"127.0.0.1:{_free_port()}"
    stop = asyncio.Event()
    caplog.set_level(logging.INFO, logger=log.name)
    server = asyncio.create_task(serve_app(app, listen, stop, setting="ASSAY_TEST_LISTEN", log=log))
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(50):  # until the listener is up
                try:
                    async with session.get(
                        f"http://{listen}/auth/callback?code=SECRET-CODE&state=xyz",
                        headers={"Referer": "https://idp.example/?code=SECRET-CODE"},
                    ) as resp:
                        assert resp.status == 200
                    break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.1)
    finally:
        stop.set()
        await server
    lines = [r.getMessage() for r in caplog.records if r.name == log.name]
    access = [line for line in lines if "/auth/callback" in line]
    assert access, lines
    assert "GET /auth/callback 200" in access[0]
    assert not any("SECRET-CODE" in line for line in lines)
