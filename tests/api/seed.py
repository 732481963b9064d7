"""Seed data for the read API tests: images in environments and their findings, and a client handle."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from schemas import Finding
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
                severity=("critical", "HIGH", "Medium", "LOW", "WEIRD", "HIGH")[n],
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

    async def get(self, path: str, **params: str | list[str]) -> tuple[int, object]:
        async with self.http.get(self.url + path, params=_pairs(params)) as response:
            return response.status, await response.json()


def _pairs(params: dict[str, str | list[str]]) -> list[tuple[str, str]]:
    return [(k, x) for k, v in params.items() for x in ([v] if isinstance(v, str) else v)]
