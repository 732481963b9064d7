"""Seed data for the read API tests: images in environments and their findings, and a client handle."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from schemas import Finding
from services.api.app import make_app
from services.api.auth.access import Access
from services.api.settings import AuthConfig
from services.api.store import Reads
from services.common.bus.memory import MemoryBus
from services.common.store import Store

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")

# digest -> (status, error, [(environment, repository, tag)])
IMAGES: dict[str, tuple[str, str | None, list[tuple[str, str, str]]]] = {
    "sha256:" + "a" * 64: (
        "scanned",
        None,
        [("cluster:prod-eu", "team/app", "1.0"), ("registry:127.0.0.1:5000", "team/app", "1.0")],
    ),
    "sha256:" + "b" * 64: (
        "failed",
        "layer sha256:dead: unexpected end of gzip stream",
        [("cluster:prod-us", "team/db", "")],
    ),
    "sha256:" + "c" * 64: ("pending", None, [("cluster:dev", "team/app", "2.0-rc1")]),
    "sha256:" + "d" * 64: ("scanned", None, []),  # `assay scan` of an image no crawler saw
}

# environment -> the organisational unit inventory reported for it (image_environments.ou)
OUS: dict[str, str] = {
    "cluster:prod-eu": "payments",
    "cluster:prod-us": "payments",
    "registry:127.0.0.1:5000": "platform",
    "cluster:dev": "dev",
}


def seeded_findings() -> dict[str, list[Finding]]:
    """Findings per digest: mixed severities, categories, rulesets and packages; LIKE metacharacters too."""
    a, b, _, d = IMAGES
    out: dict[str, list[Finding]] = {a: [], b: [], d: []}
    for n in range(23):
        pkg = f"lib{n % 5}"
        out[a].append(
            Finding(
                finding_id=f"a-{n:03d}",
                category="CVE" if n % 4 else "InsecureContent",
                id=f"CVE-2024-{1000 + n}",
                severity=SEVERITIES[n % 5],
                title=f"overflow in {pkg} parser" if n != 7 else "100% CPU in lib2_x",
                package_name=pkg,
                purl=f"pkg:deb/debian/{pkg}@1.{n}",
                installed_version=f"1.{n}",
                fixed_version=f"1.{n}.1" if n % 3 else "",
                environment="cluster:prod-eu",
                ruleset="default" if n % 2 else "strict",
            )
        )
    for n in range(6):
        out[b].append(
            Finding(
                finding_id=f"b-{n:03d}",
                category="CVE",
                id=f"CVE-2023-{2000 + n}",
                severity=("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN", "HIGH")[n],
                title=f"bug {n} in openssl",
                package_name="openssl",
                purl="pkg:deb/debian/openssl@3.0.11",
                installed_version="3.0.11",
                environment="cluster:prod-us",
            )
        )
    out[d].append(
        Finding(
            finding_id="d-000", category="ImageScan", id="default", severity="HIGH", title="threshold passed"
        )
    )
    return out


@dataclass(frozen=True)
class Api:
    """A running API: its base URL, an HTTP session, and the store it reads."""

    url: str
    http: aiohttp.ClientSession
    store: Store
    findings: dict[str, list[Finding]]
    tokens: dict[str, str]  # role -> an API token of that role
    bus: MemoryBus

    async def get(self, path: str, **params: str | list[str]) -> tuple[int, object]:
        async with self.http.get(self.url + path, params=_pairs(params)) as response:
            return response.status, await response.json()

    async def call(self, method: str, path: str, role: str | None = "viewer") -> tuple[int, object, str]:
        """``method path`` as ``role`` (None: no credentials): status, JSON body (or None), Retry-After."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {"Authorization": ""}
        async with self.http.request(
            method, self.url + path, headers=headers, allow_redirects=False
        ) as response:
            is_json = response.content_type == "application/json"
            body = await response.json() if is_json else None
            return response.status, body, response.headers.get("Retry-After", "")


def _pairs(params: dict[str, str | list[str]]) -> list[tuple[str, str]]:
    return [(k, x) for k, v in params.items() for x in ([v] if isinstance(v, str) else v)]


# An admin token the API registers at start (as ASSAY_AUTH_BOOTSTRAP_TOKEN would), for tests that
# build their own app: ``bootstrapped_app(store)`` and send ``BOOTSTRAP_HEADERS``.
BOOTSTRAP = "assay_0123456789ab_" + "t" * 43
BOOTSTRAP_HEADERS = {"Authorization": f"Bearer {BOOTSTRAP}"}


def bootstrapped_app(store: Store) -> web.Application:
    """The API over ``store`` with ``BOOTSTRAP`` registered as its admin token."""
    access = Access(AuthConfig(bootstrap_token=BOOTSTRAP, rate_burst=10_000), store.pool)
    return make_app(Reads(store.pool), access)


@contextlib.asynccontextmanager
async def serve(store: Store, config: AuthConfig) -> AsyncIterator[str]:
    """The API over ``store`` with ``config`` on a real HTTP server on 127.0.0.1: its base URL."""
    server = TestServer(make_app(Reads(store.pool), Access(config, store.pool)), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
