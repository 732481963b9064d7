"""The console over a real PostgreSQL seeded by the store's writers.

``console``: the API app (with the console mounted) on an in-process HTTP server, one fresh database
per test. ``api_process``: ``assay service api`` as its own process over one seeded database for a
module, which the browser tests drive with Debian's Chromium.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from schemas import Finding
from services.api.app import make_app
from services.api.auth.access import Access
from services.api.auth.roles import ROLES
from services.api.auth.tokens import Tokens
from services.api.settings import AuthConfig
from services.api.store import Reads
from services.common.store import Store
from tests.console.seed import seed
from tests.harness.postgres import fresh_database
from tests.harness.process import stop_process
from tests.harness.registry import free_port
from tests.harness.requirements import REPO


@dataclass(frozen=True)
class Console:
    """A running console: its base URL, an HTTP session (a viewer's bearer token), the findings seeded
    behind it and one API token per role."""

    url: str
    http: aiohttp.ClientSession
    findings: dict[str, list[Finding]]
    store: Store
    tokens: dict[str, str]

    async def get(self, path: str, **params: str) -> tuple[int, str, aiohttp.typedefs.LooseHeaders]:
        async with self.http.get(self.url + path, params=params, allow_redirects=False) as r:
            return r.status, await r.text(), r.headers

    @contextlib.asynccontextmanager
    async def signed_in(self, role: str) -> AsyncIterator[aiohttp.ClientSession]:
        """A browser-like session (cookies, no bearer token) signed in through the login form."""
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.get(self.url + "/console/login") as r:
                csrf = field_value(await r.text(), "csrf")
            form = {"csrf": csrf, "token": self.tokens[role], "next": "/console/images"}
            async with browser.post(self.url + "/console/login", data=form, allow_redirects=False) as r:
                assert r.status == 303, await r.text()
            yield browser


def field_value(html: str, name: str) -> str:
    """The value of the first hidden input named ``name`` in ``html``."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field"
    return match[1]


async def make_tokens(store: Store) -> dict[str, str]:
    """One API token per role, named ``test-<role>``."""
    return {role: (await Tokens(store.pool).create(f"test-{role}", role))[0] for role in ROLES}


@pytest.fixture
async def console(pg_dsn: str) -> AsyncIterator[Console]:
    store = await Store.connect(pg_dsn)
    try:
        findings = await seed(store)
        tokens = await make_tokens(store)
        app = make_app(Reads(store.pool), Access(AuthConfig(rate_burst=10_000), store.pool))
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {tokens['viewer']}"}) as http:
                url = str(server.make_url("")).rstrip("/")
                yield Console(url=url, http=http, findings=findings, store=store, tokens=tokens)
        finally:
            await server.close()
    finally:
        await store.close()


def _start_api(env: dict[str, str], log: Path, timeout: float = 60) -> subprocess.Popen[bytes]:
    """Start ``assay service api`` and wait until its /healthz answers 200 (blocking: run in a thread)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "service", "api"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://{env['ASSAY_API_LISTEN']}/healthz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited ({proc.returncode}): {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    stop_process(proc)
    raise RuntimeError(f"the API did not answer {url}: {log.read_text()[-3000:]}")


@dataclass(frozen=True)
class ApiProcess:
    """``assay service api`` running: its base URL, its database and one API token per role."""

    url: str
    dsn: str
    tokens: dict[str, str]


@pytest.fixture(scope="module")
async def api_process(
    pg_server_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiProcess]:
    """``assay service api`` over a freshly seeded database (no bus: rescans wait for dedupe's sweep)."""
    work = tmp_path_factory.mktemp("console-api")
    async with fresh_database(pg_server_dsn, prefix="assay_console") as dsn:
        store = await Store.connect(dsn)
        try:
            await seed(store)
            tokens = await make_tokens(store)
        finally:
            await store.close()
        address = f"127.0.0.1:{free_port()}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
        env.update(ASSAY_PG_DSN=dsn, ASSAY_API_LISTEN=address, ASSAY_DATA_DIR=str(work / "data"))
        proc = await asyncio.to_thread(_start_api, env, work / "api.log")
        try:
            yield ApiProcess(url=f"http://{address}", dsn=dsn, tokens=tokens)
        finally:
            await asyncio.to_thread(stop_process, proc, 20)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests save screenshots (copied to ``ASSAY_ARTIFACTS`` when set)."""
    return tmp_path_factory.mktemp("console-shots")


def keep_artifact(path: Path) -> None:
    """Copy a screenshot to ``$ASSAY_ARTIFACTS/console`` when CI asked for artifacts."""
    target = os.environ.get("ASSAY_ARTIFACTS", "")
    if target:
        dest = Path(target) / "console"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest / path.name)
