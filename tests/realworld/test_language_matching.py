"""Language and OS packages of the Debian fixture image matched for real against ../shared/vulndata.

The image (tests/fixtures/build-images.sh) carries pip, npm, a log4j-core jar and a Go
binary on top of Debian 12 packages; the database is built from every ecosystem of
../shared/vulndata plus CISA's KEV catalog from ../shared/kev. The expected CVEs and fixed
versions are those the upstream advisories (PYSEC/GHSA/GO) give.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from services.vulndb.ingest import update_db
from tests.harness.requirements import require, shared_dir
from tests.realworld.scan import assay_scan, run_scan

pytestmark = pytest.mark.realworld

# (package, installed version, vulnerability, fixed version)
EXPECTED = [
    ("Django", "3.2", "CVE-2021-31542", "3.2.1"),
    ("requests", "2.19.0", "CVE-2018-18074", "2.20.0"),
    ("urllib3", "1.23", "CVE-2019-11324", "1.24.2"),
    ("PyYAML", "5.3", "CVE-2020-1747", "5.3.1"),
    ("PyYAML", "5.3", "CVE-2020-14343", "5.4"),
    ("lodash", "4.17.15", "CVE-2021-23337", "4.17.21"),
    ("minimist", "1.2.0", "CVE-2021-44906", "1.2.6"),
    ("log4j-core", "2.14.1", "CVE-2021-44228", "2.15.0"),
    ("golang.org/x/text", "v0.3.0", "CVE-2020-14040", "0.3.3"),
]


@pytest.fixture(scope="module")
def full_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every ecosystem of ../shared/vulndata, and the KEV catalog."""
    data = shared_dir() / "vulndata"
    kev = shared_dir() / "kev" / "known_exploited_vulnerabilities.json"
    require((data / "PyPI" / "all.zip").is_file(), f"no advisory data at {data} (../shared is absent)")
    require(kev.is_file(), f"no KEV catalog at {kev}")
    path = tmp_path_factory.mktemp("vulndb") / "full.sqlite"
    asyncio.run(update_db(str(data), path, kev=str(kev)))
    return path


@pytest.fixture(scope="module")
def target(fixtures: Path) -> str:
    return f"oci:{fixtures}/oci/debian"


@pytest.fixture(scope="module")
def report(target: str, full_db: Path) -> dict[str, Any]:
    code, out, stderr = assay_scan(target, db=full_db)
    assert code == 0, stderr
    return out


def _findings(report: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (f["package_name"], f["installed_version"], f["id"]): f
        for f in report["findings"]
        if f["category"] == "CVE"
    }


@pytest.mark.parametrize(("package", "version", "vuln", "fixed"), EXPECTED)
def test_language_packages_are_reported_with_cve_and_fix(
    report: dict[str, Any], package: str, version: str, vuln: str, fixed: str
) -> None:
    finding = _findings(report).get((package, version, vuln))
    assert finding is not None, f"{vuln} not reported for {package} {version}"
    assert finding["fixed_version"] == fixed
    match = next(
        m for m in report["matches"] if m["vuln_id"] == vuln and m["package_purl"] == finding["purl"]
    )
    assert match["fix_state"] == "fixed"
    assert vuln in match["advisory_ids"]
    assert len(match["advisory_ids"]) >= 2  # the GHSA/PYSEC/GO ids merged under the CVE


def test_log4shell_is_known_exploited(report: dict[str, Any]) -> None:
    (m,) = [
        m for m in report["matches"] if m["vuln_id"] == "CVE-2021-44228" and m["package_name"] == "log4j-core"
    ]
    assert m["known_exploited"] is True
    assert m["severity"] == "CRITICAL"


def test_debian_packages_only_meet_debian_advisories(report: dict[str, Any]) -> None:
    # purls of packages that are Debian packages or only ever installed by one (the same
    # module can also sit in an unowned binary: that copy is judged by upstream advisories)
    debian: dict[str, bool] = {}
    for p in report["packages"]:
        is_deb = p["type"] == "deb" or p.get("owner", "").startswith("pkg:deb/")
        debian[p["purl"]] = debian.get(p["purl"], True) and is_deb
    os_matches = [m for m in report["matches"] if debian[m["package_purl"]]]
    assert os_matches  # the downgraded curl and openssl (tests/fixtures/README.md)
    assert {m["ecosystem"] for m in os_matches} == {"Debian:12"}
    for m in os_matches:
        foreign = [
            i for i in m["advisory_ids"] if not i.startswith(("CVE-", "x_DEBCL-", "DEBIAN-", "DSA-", "DLA-"))
        ]
        assert foreign == [], (m["package_name"], foreign)


def test_one_finding_per_vulnerability_per_package(report: dict[str, Any]) -> None:
    keys = Counter((f["id"], f["purl"]) for f in report["findings"] if f["category"] == "CVE")
    assert [k for k, n in keys.items() if n > 1] == []
    # no advisory id is reported under two names for one package
    for purl in {m["package_purl"] for m in report["matches"]}:
        ids = Counter(i for m in report["matches"] if m["package_purl"] == purl for i in m["advisory_ids"])
        assert [i for i, n in ids.items() if n > 1] == [], purl


def test_every_ecosystem_in_the_image_was_checked(report: dict[str, Any]) -> None:
    # ecosystems ../shared/vulndata has no folder for (crates.io, Packagist) are gaps; no other may be
    loaded = {p.name for p in (shared_dir() / "vulndata").iterdir() if (p / "all.zip").is_file()}
    gaps = [f["id"] for f in report["findings"] if f["category"] == "Coverage"]
    missing = [g.split(":", 2)[2] for g in gaps if g.startswith("coverage:no-advisories:")]
    assert [m for m in missing if m.split(":")[0] in loaded] == [], gaps
    assert not any("not matched yet" in n for n in report["notes"])


def test_ignore_file_vex_and_fail_on(target: str, full_db: Path, tmp_path: Path) -> None:
    code, _, _ = run_scan(target, db=full_db, fmt="json", args=("--fail-on", "critical"))
    assert code == 1
    ignore = tmp_path / "assay-ignore.yaml"
    ignore.write_text(
        "ignore:\n"
        "  - id: GHSA-jfh8-c2jp-5v3q\n"  # log4shell by its GHSA id
        "    package: pkg:maven/org.apache.logging.log4j/log4j-core\n"
        "    reason: JNDI lookups disabled by LOG4J_FORMAT_MSG_NO_LOOKUPS\n"
        "  - id: CVE-2021-44906\n"
        "    expires: 2020-01-01\n"
        "    reason: expired long ago\n"
    )
    vex = tmp_path / "image.openvex.json"
    vex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.com/vex/1",
                "author": "test",
                "timestamp": "2026-11-01T00:00:00Z",
                "version": 1,
                "statements": [
                    {
                        "vulnerability": {"name": "CVE-2021-45046"},
                        "products": [{"@id": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}],
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                    }
                ],
            }
        )
    )
    args = ("--ignore-file", str(ignore), "--vex", str(vex), "--fail-on", "critical")
    code, report, stderr = assay_scan(target, db=full_db, args=args)
    suppressed = {(s["finding"]["id"], s["kind"]) for s in report["suppressed"]}
    assert ("CVE-2021-44228", "ignore") in suppressed
    assert ("CVE-2021-45046", "vex") in suppressed
    ids = {f["id"] for f in report["findings"]}
    assert "CVE-2021-44228" not in ids
    assert "CVE-2021-44906" in ids  # its ignore entry expired
    assert [e["id"] for e in report["expired_ignores"]] == ["CVE-2021-44906"]
    assert "expired on 2020-01-01" in stderr
    assert code == 1  # minimist CVE-2021-44906 is CRITICAL and no longer suppressed


def test_ignore_unfixed_only_suppresses_findings_without_a_fix(target: str, full_db: Path) -> None:
    code, report, stderr = assay_scan(target, db=full_db, args=("--ignore-unfixed",))
    assert code == 0, stderr
    assert all(s["kind"] == "unfixed" for s in report["suppressed"])
    assert all(not s["finding"].get("fixed_version") for s in report["suppressed"])
    assert all(f.get("fixed_version") for f in report["findings"] if f["category"] == "CVE")


def test_sarif_output_locates_results_at_package_files(target: str, full_db: Path) -> None:
    code, out, stderr = run_scan(target, db=full_db, fmt="sarif")
    assert code == 0, stderr
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    by_rule = {r["id"]: r for r in rules}
    log4shell = [r for r in results if r["ruleId"] == "CVE-2021-44228"]
    assert log4shell
    assert log4shell[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "opt/javaapp/lib/log4j-core-2.14.1.jar"
    )
    assert float(by_rule["CVE-2021-44228"]["properties"]["security-severity"]) >= 9.0
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
