"""No token ever reaches a log: not through the access log, the auth middleware, a refused OIDC
token, the console's sign-in, a bad parameter, a store failure, or ``assay tokens create``.

The API runs through ``serve_app`` (the real access logger) with every logger at DEBUG; each
secret is sent where clients send it (header, cookie, form, query string) and then looked for in
every record, arguments included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from services.api.app import make_app
from services.api.auth.access import Access
from services.api.auth.cli import add_tokens_command, run_tokens
from services.api.settings import AuthConfig
from services.api.store import Reads
from services.common.serve import serve_app
from tests.api.fake_oidc import FakeIssuer, new_key
from tests.api.seed import Api


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def _served(app: web.Application) -> AsyncIterator[str]:
    listen = f"127.0.0.1:{_free_port()}"
    stop = asyncio.Event()
    log = logging.getLogger("services.api.server")
    task = asyncio.create_task(serve_app(app, listen, stop, setting="ASSAY_API_LISTEN", log=log))
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):  # until the listener is up
                with contextlib.suppress(aiohttp.ClientConnectorError):
                    async with http.get(f"http://{listen}/healthz"):
                        break
                await asyncio.sleep(0.05)
        yield f"http://{listen}"
    finally:
        stop.set()
        await task


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record as written, plus its raw arguments and exception (a formatter could show them)."""
    parts = []
    for r in caplog.records:
        parts += [r.getMessage(), repr(r.args), str(r.exc_info[1]) if r.exc_info else ""]
    return "\n".join(parts)


class _DownPool:
    """A pool whose server cannot be reached: every statement fails as asyncpg's would."""

    def __getattr__(self, name: str) -> Any:
        async def fail(*_args: object, **_kwargs: object) -> None:
            raise OSError(111, "Connection refused")

        return fail


async def test_no_token_or_session_reaches_any_log(
    api: Api, issuer: FakeIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    viewer = api.tokens["viewer"]
    wrong = viewer[:-4] + ("AAAA" if not viewer.endswith("AAAA") else "BBBB")
    foreign = issuer.sign({"assay_role": "admin"}, key=new_key())
    config = AuthConfig(oidc_issuer=issuer.issuer, oidc_client_id=issuer.client_id, rate_burst=10_000)
    secrets = [viewer, wrong, foreign]
    async with _served(make_app(Reads(api.store.pool), Access(config, api.store.pool))) as url:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:

            async def status(method: str, path: str, token: str = "", **kw: Any) -> int:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                async with http.request(method, url + path, headers=headers, **kw) as r:
                    await r.read()
                    return r.status

            assert await status("GET", "/v1/images", viewer) == 200
            assert await status("GET", "/v1/images", wrong) == 401
            assert await status("GET", "/v1/whoami", foreign) == 401  # refused, and the reason logged
            assert await status("GET", f"/v1/images?cursor={viewer}", viewer) == 400
            assert await status("GET", f"/console/findings?q={viewer}", viewer) == 200
            for token in (wrong, viewer):  # the console's sign-in form: refused, then accepted
                async with http.get(url + "/console/login") as r:
                    match = re.search(r'name="csrf" value="([^"]+)"', await r.text())
                assert match is not None
                form = {"csrf": match[1], "token": token, "next": "/console/findings"}
                assert await status("POST", "/console/login", data=form, allow_redirects=False) == (
                    401 if token == wrong else 303
                )
            session = [c.value for c in jar if c.key == "assay_session"]
            assert session
            secrets += session
            assert await status("GET", "/console/images") == 200  # by the session cookie
    down = make_app(Reads(_DownPool()), Access(AuthConfig(), _DownPool()))
    async with _served(down) as url, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {viewer}"}
        async with http.get(url + "/v1/images", headers=headers) as r:
            assert r.status == 503  # the store is down while checking the token
    logged = _logged(caplog)
    assert "GET /v1/images 200" in logged  # the access log was captured
    assert "OIDC bearer token was refused" in logged
    assert "cannot check an API token" in logged
    for secret in secrets:
        assert secret not in logged
        assert secret[-20:] not in logged  # nor a part of it


async def test_assay_tokens_create_prints_the_token_and_logs_nothing_of_it(
    pg_dsn: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    parser = argparse.ArgumentParser(prog="assay")
    add_tokens_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["tokens", "create", "--role", "operator", "--environments", "cluster:a", "ci"])
    assert await run_tokens(pg_dsn, args) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert token.startswith("assay_")
    assert token not in out.err
    assert token[-20:] not in _logged(caplog)
