"""Seed data for the console tests: the read API's seed, plus what only the console shows.

On top of ``tests/api/seed.py`` (images in environments, findings of every severity), image A
gets a stored scan with three layers (each with the history line that made it) and packages, its
findings are placed in those layers, and a few findings carry hostile text: markup in a title,
a spreadsheet formula, a suppression with its reason.
"""

from __future__ import annotations

import msgspec

from schemas import Finding
from schemas.records import ImageInfo, LayerInfo, PackageRecord
from services.common.store import Store
from tests.api.seed import IMAGES, OUS, seeded_findings
from tests.harness.seed import evaluate, sight

A, B, C, D = IMAGES
LAYERS = [
    LayerInfo(
        digest="sha256:" + "1" * 64,
        diff_id="sha256:" + "4" * 64,
        size=29_124_000,
        created_by="/bin/sh -c #(nop) ADD file:9a1b in / ",
    ),
    LayerInfo(
        digest="sha256:" + "2" * 64,
        size=4_210_000,
        created_by="RUN /bin/sh -c apt-get update && apt-get install -y lib0 lib1 lib2 # buildkit",
    ),
    LayerInfo(digest="sha256:" + "3" * 64, size=812, created_by="COPY app.py /srv/ # buildkit"),
]
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HOSTILE = [
    Finding(
        finding_id="a-xss",
        category="InsecureContent",
        id="ASSAY-XSS-1",
        severity="HIGH",
        title=XSS,
        description="a title an attacker wrote into the image " + XSS,
        path="/srv/<b>bold</b>.txt",
        layer_digest=LAYERS[2].digest,
        environment="cluster:prod-eu",
    ),
    Finding(
        finding_id="a-formula",
        category="InsecureContent",
        id="ASSAY-CSV-1",
        severity="LOW",
        title='=HYPERLINK("http://evil.example/","click")',
        path="/srv/report.csv",
        layer_digest=LAYERS[2].digest,
        environment="cluster:prod-eu",
    ),
    Finding(
        finding_id="a-suppressed",
        category="CVE",
        id="CVE-2024-9999",
        severity="CRITICAL",
        title="suppressed overflow in lib0",
        package_name="lib0",
        purl="pkg:deb/debian/lib0@1.0",
        installed_version="1.0",
        fixed_version="1.0.1",
        known_exploited=True,
        cvss_score=9.8,
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        severity_source="cvss_v3",
        epss=0.97312,
        layer_digest=LAYERS[1].digest,
        environment="cluster:prod-eu",
        suppression="not reachable: the parser is never called (ticket SEC-12)",
        policy_rule="ignore-lib0-parser",
    ),
]


def console_findings() -> dict[str, list[Finding]]:
    """The API seed's findings, image A's placed in its layers (by digest or diff_id), plus HOSTILE."""
    out = seeded_findings()
    placed = []
    for n, f in enumerate(out[A]):
        layer = LAYERS[n % 2]
        placed.append(msgspec.structs.replace(f, layer_digest=layer.diff_id or layer.digest))
    out[A] = placed + HOSTILE
    return out


def packages() -> list[PackageRecord]:
    """Image A's inventory: lib0..lib4 installed by the second layer, python3 by the first."""
    libs = [
        PackageRecord(
            name=f"lib{n}",
            version=f"1.{n}",
            type="deb",
            purl=f"pkg:deb/debian/lib{n}@1.{n}",
            layer_digest=LAYERS[1].digest,
        )
        for n in range(5)
    ]
    base = PackageRecord(
        name="python3",
        version="3.11.2",
        type="deb",
        purl="pkg:deb/debian/python3@3.11.2",
        layer_digest=LAYERS[0].digest,
    )
    return [base, *libs]


async def seed(store: Store) -> dict[str, list[Finding]]:
    """Sight, set the status of and evaluate every seeded image; return the findings stored."""
    findings = console_findings()
    await store.builds.record_analysis_version("test-analysis-1")  # what an engine records: rescans need it
    for digest, (status, error, locations) in IMAGES.items():
        for env, repo, tag in locations:
            ref = f"127.0.0.1:5000/{repo}@{digest}"
            await sight(
                store, digest=digest, image_ref=ref, environment=env, repository=repo, tag=tag, ou=OUS[env]
            )
        await store.set_status(digest, status, scan_id=f"scan-{digest[7:15]}", error=error)  # type: ignore[arg-type]
    info = ImageInfo(ref=f"127.0.0.1:5000/team/app@{A}", digest=A, layers=LAYERS)
    inventory = msgspec.json.encode(packages())
    await store.save_scan(f"scan-{A[7:15]}", A, msgspec.json.encode(info), inventory, b"[]", "test")
    for digest, items in findings.items():
        await evaluate(store, digest, items, evaluation_id=f"seed:{digest}")
    return findings
