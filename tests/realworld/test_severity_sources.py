"""Severities of the Debian fixture's CVE findings once CVE records rate them (issue 16, "Severities").

OSV's Debian records carry no severity, so without another source every finding is UNKNOWN
(tests/realworld/test_debian_fixture.py checks that). Here the database also loads the CVE
JSON 5 records of ../shared/cvelist plus the six of testdata/cvelist (read from the CVE List
where the shared sample lacks them; see its README) with ``assay db update --cvss``, and
RubySec's records, which rate the Ruby CVEs whose CVE records carry no metric at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.harness.requirements import require, shared_dir
from tests.realworld.scan import assay_scan

pytestmark = pytest.mark.realworld

SUPPLEMENT = Path(__file__).parent / "testdata" / "cvelist" / "cves"


@pytest.fixture(scope="module")
def rated_db(vulndata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    sample = shared_dir() / "cvelist" / "cves"
    require(sample.is_dir(), f"{sample} (real CVE JSON 5 records) is missing")
    records = tmp_path_factory.mktemp("cvelist") / "cves"
    shutil.copytree(sample, records)
    shutil.copytree(SUPPLEMENT, records, dirs_exist_ok=True)
    db = tmp_path_factory.mktemp("rated") / "vuln.db"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.cli.main",
            "db",
            "update",
            "--source",
            str(vulndata),
            "--ecosystems",
            "Debian,Alpine,RubyGems",
            "--cvss",
            str(records),
        ],
        capture_output=True,
        text=True,
        env={**{k: v for k, v in os.environ.items() if k != "ASSAY_CONFIG"}, "ASSAY_DB_PATH": str(db)},
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return db


@pytest.fixture(scope="module")
def report(fixtures: Path, rated_db: Path) -> dict[str, Any]:
    code, doc, stderr = assay_scan(f"oci:{fixtures}/oci/debian", db=rated_db, args=("--no-content",))
    assert code == 0, stderr
    return doc


def test_under_five_percent_of_the_debian_packages_findings_stay_unknown(report: dict[str, Any]) -> None:
    debian = [m for m in report["matches"] if m["ecosystem"] == "Debian:12"]
    assert len(debian) >= 80
    unknown = [m["vuln_id"] for m in debian if m.get("severity", "UNKNOWN") == "UNKNOWN"]
    assert len(unknown) / len(debian) < 0.05, sorted(set(unknown))
    # the two curl CVEs whose records are in neither sample are the only ones left
    assert set(unknown) <= {"CVE-2024-7264", "CVE-2024-8096"}


def test_every_rated_finding_says_where_its_severity_came_from(report: dict[str, Any]) -> None:
    rated = [m for m in report["matches"] if m.get("severity", "UNKNOWN") != "UNKNOWN"]
    assert rated
    assert all(m.get("severity_source") for m in rated)
    by_id = {(m["package_name"], m["vuln_id"]): m for m in report["matches"]}
    curl = by_id[("curl", "CVE-2024-2398")]  # CISA's Vulnrichment CVSS 3.1 (curl's CNA gives none)
    assert (curl["severity"], curl["cvss_score"], curl["severity_source"]) == (
        "HIGH",
        8.6,
        "adp:CISA-ADP/cvss_v3",
    )
    ssl = by_id[("libssl3", "CVE-2024-6119")]  # only OpenSSL's own word: "Moderate"
    assert (ssl["severity"], ssl["severity_source"]) == ("MEDIUM", "cna:openssl/rating")
    sources = Counter(m["severity_source"].split("/", 1)[0].split(":", 1)[0] for m in rated)
    assert {"cna", "adp", "osv"} <= set(sources)  # CVE records' CNA and ADP, and RubySec's CVSS


def test_fail_on_high_now_sees_the_os_packages_cves(fixtures: Path, rated_db: Path) -> None:
    code, doc, _ = assay_scan(
        f"oci:{fixtures}/oci/debian", db=rated_db, args=("--no-content", "--fail-on", "high")
    )
    assert code == 1
    assert doc["counts"]["HIGH"] + doc["counts"]["CRITICAL"] > 0
