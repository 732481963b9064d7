"""Finding ids never collide across packages, and the pipeline stores every finding `assay scan`
reports (issue 14, defects 6 and 8)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from schemas.records import Detection, VulnMatch
from services.common.config import DataSettings
from services.common.store.postgres import Store
from services.engine.catalogers.registry import select
from services.engine.content.registry import ContentAnalysis
from services.engine.content.settings import LayerCacheSettings
from services.engine.core import detect
from services.engine.image.targets import parse_target
from services.policy.assess import assess
from services.policy.catalog import load_rulesets
from services.policy.ruleset import DEFAULT_RULESET, detection_finding, evaluate, finding_id
from services.policy.service import make_policy_handler
from services.policy.store import stored_findings
from services.policy.suppress_accept import Acceptance
from services.settings import Settings
from services.vulndb.db import VulnDB

_DIGEST = "sha256:" + "ab" * 32


def _license(purl: str, path: str = "/usr/lib/sysimage/rpm/rpmdb.sqlite") -> Detection:
    return Detection(
        category="Package",
        rule_id="license:GPL-3.0-only",
        severity="MEDIUM",
        title="Package under GPL-3.0-only",
        path=path,
        evidence="GPL-3.0-only",
        package_purl=purl,
    )


def test_license_findings_of_packages_sharing_a_database_file_get_different_ids() -> None:
    a, b = _license("pkg:rpm/rhel/bash@5.1"), _license("pkg:rpm/rhel/grep@3.6")
    ids = {f.finding_id for f in evaluate(DEFAULT_RULESET, digest=_DIGEST, detections=[a, b]).findings}
    assert len(ids) == 2
    # the same package seen again keeps its id
    assert detection_finding(DEFAULT_RULESET, a, digest=_DIGEST).finding_id in ids


def test_a_detection_with_only_a_path_keeps_the_id_it_always_had() -> None:
    secret = Detection(
        category="InsecureContent", rule_id="aws-key", severity="HIGH", title="AWS key", path="/app/.env",
        evidence="AKIA...3f2a",
    )  # fmt: skip
    evidence = hashlib.sha256(b"AKIA...3f2a").hexdigest()[:16]
    expected = finding_id(_DIGEST, "InsecureContent", "aws-key", f"/app/.env\x1f{evidence}")
    assert detection_finding(DEFAULT_RULESET, secret, digest=_DIGEST).finding_id == expected


def test_the_image_scan_finding_is_titled_with_the_image_name() -> None:
    critical = VulnMatch(
        vuln_id="CVE-2024-0001", package_name="bash", package_version="5.1",
        package_purl="pkg:rpm/rhel/bash@5.1", severity="CRITICAL",
    )  # fmt: skip
    outcome = evaluate(
        DEFAULT_RULESET,
        digest=_DIGEST,
        matches=[critical],
        image_ref=f"registry.example.com/team/app:1.2@{_DIGEST}",
    )
    [scan] = [f for f in outcome.findings if f.category == "ImageScan"]
    assert scan.title == "registry.example.com/team/app:1.2"
    assert "CRITICAL 1 >= 1" in scan.description


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


@pytest.mark.parametrize("image", ["rpm/oci/rhel9", "rpm/oci/centos7", "oci/debian", "oci/alpine"])
async def test_every_finding_assay_scan_reports_is_stored_by_the_pipeline_with_the_same_id(
    image: str, fixtures: Path, vuln_db: Path, store: Store, tmp_path: Path
) -> None:
    target = fixtures / image
    if not target.is_dir():
        pytest.fail(f"fixture image {target} is missing: run tests/fixtures/build-*.sh")
    settings = Settings(data=DataSettings(dir=str(tmp_path)), layer_cache=LayerCacheSettings(enabled=False))
    image_source = parse_target(f"oci:{target}", registries=[], platform="linux/amd64")
    opened = await image_source.open()
    with VulnDB.open(vuln_db) as db:
        async with opened:
            bound = ContentAnalysis.from_settings(settings).bind(opened.info.layers)
            scanned = await detect(
                opened, scan_id=f"scan-{image}", catalogers=select(), vulndb=db, analyzers=bound.analyzers
            )
    report = assess(scanned, Acceptance(), dt.date.today())
    reported = [f.finding_id for f in report.findings]
    assert len(reported) == len(set(reported)), "assay scan reports two findings under one id"

    await make_policy_handler(store, load_rulesets())(scanned)
    stored = [f.finding_id for f in await stored_findings(store.pool, scanned.image.digest)]
    assert sorted(stored) == sorted(reported)
