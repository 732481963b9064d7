"""The Debian fixture image (tests/fixtures/build-images.sh) scanned for real, with syft as the peer."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.harness.requirements import require
from tests.harness.syft import syft_packages
from tests.realworld.scan import assay_scan, run_scan

pytestmark = pytest.mark.realworld

FORMATS = {
    "oci": "oci:{f}/oci/debian",
    "docker-archive": "docker-archive:{f}/debian-docker.tar",
    "oci-archive": "oci-archive:{f}/debian-oci.tar",
}


@pytest.fixture(scope="module")
def debian_report(fixtures: Path, vuln_db: Path) -> dict[str, Any]:
    code, report, stderr = assay_scan(FORMATS["oci"].format(f=fixtures), db=vuln_db)
    assert code == 0, stderr
    return report


@pytest.fixture(scope="module")
def syft_debs(fixtures: Path) -> set[tuple[str, str, str]]:
    found = syft_packages(f"oci-dir:{fixtures}/oci/debian")
    return {(p.name, p.version, p.source or p.name) for p in found if p.type == "deb"}


def _debs(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(p["name"], p["version"], p["source_name"]) for p in report["packages"] if p["type"] == "deb"}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_dpkg_inventory_equals_syft_in_every_format(
    fmt: str, fixtures: Path, syft_debs: set[tuple[str, str, str]]
) -> None:
    code, report, stderr = assay_scan(FORMATS[fmt].format(f=fixtures), db=None)
    assert code == 0, stderr
    assert report["image"]["distro"]["id"] == "debian"
    assert report["image"]["distro"]["version_id"] == "12"
    assert len(syft_debs) > 100
    assert _debs(report) == syft_debs
    assert report["unknowns"] == []


def test_packages_deleted_by_an_upper_layer_are_absent(debian_report: dict[str, Any]) -> None:
    python = {p["name"]: p for p in debian_report["packages"] if p["type"] == "pypi"}
    assert {"Django", "requests", "urllib3", "PyYAML"} <= set(python)
    assert "Jinja2" not in python  # installed in layer 3, deleted by layer 4's whiteouts
    assert python["Django"]["version"] == "3.2"
    layers = debian_report["image"]["layers"]
    assert python["Django"]["layer_digest"] == layers[2]["digest"]
    assert python["Django"]["layer_created_by"].startswith("RUN pip install")


def test_each_package_records_the_layer_that_introduced_it(debian_report: dict[str, Any]) -> None:
    layers = [layer["digest"] for layer in debian_report["image"]["layers"]]
    debs = {p["name"]: p for p in debian_report["packages"] if p["type"] == "deb"}
    assert debs["dpkg"]["layer_digest"] == layers[0]  # debootstrap base
    assert debs["curl"]["layer_digest"] == layers[1]  # apt-get install
    assert debs["curl"]["layer_created_by"].startswith("RUN apt-get install")
    assert debs["curl"]["purl"] == "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12"


@cache
def _dpkg_lt(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0


def _expected_debian_findings(report: dict[str, Any], vulndata: Path) -> set[tuple[str, str, str]]:
    """(package, CVE, fixed) for every affected package, decided by dpkg itself over the raw OSV data."""
    by_source: dict[str, list[dict[str, Any]]] = {}
    for p in report["packages"]:
        if p["type"] == "deb":
            by_source.setdefault(p["source_name"], []).append(p)
    expected: set[tuple[str, str, str]] = set()
    with zipfile.ZipFile(vulndata / "Debian" / "all.zip") as z:
        for name in z.namelist():
            record = json.loads(z.read(name))
            cve = next(
                (
                    a
                    for a in [record["id"], *record.get("aliases", []), *record.get("upstream", [])]
                    if a.startswith("CVE-")
                ),
                record["id"],
            )
            for affected in record["affected"]:
                pkgs = by_source.get(affected["package"]["name"])
                if not pkgs or affected["package"]["ecosystem"] != "Debian:12":
                    continue
                for rng in affected.get("ranges", []):
                    fixed = [e["fixed"] for e in rng["events"] if "fixed" in e]
                    assert [e.get("introduced") for e in rng["events"] if "introduced" in e] == ["0"]
                    for pkg in pkgs:
                        if fixed and _dpkg_lt(pkg["source_version"], fixed[0]):
                            expected.add((pkg["name"], cve, fixed[0]))
    return expected


def test_debian_findings_are_exactly_what_dpkg_says_is_affected(
    debian_report: dict[str, Any], vulndata: Path
) -> None:
    require(shutil.which("dpkg") is not None, "dpkg is needed as the version-ordering oracle")
    found = {
        (f["package_name"], f["id"], f["fixed_version"])
        for f in debian_report["findings"]
        if f["category"] == "CVE"
    }
    expected = _expected_debian_findings(debian_report, vulndata)
    assert found == expected
    names = {name for name, _, _ in found}
    assert {"curl", "libcurl4", "openssl", "libssl3"} <= names  # the downgraded packages
    assert "zlib1g" not in names  # current version: every zlib fix is already in
    assert ("curl", "CVE-2024-2398", "7.88.1-10+deb12u6") in found
    # a CVE fixed exactly at the installed version is not reported
    assert not any(f == "7.88.1-10+deb12u5" for _, _, f in found)


def test_findings_carry_layer_purl_and_threshold_finding(debian_report: dict[str, Any]) -> None:
    cves = [f for f in debian_report["findings"] if f["category"] == "CVE"]
    assert all(f["layer_digest"].startswith("sha256:") and f["purl"].startswith("pkg:deb/") for f in cves)
    assert all(f["title"] == f["id"] and f["id"].startswith("CVE-") for f in cves)
    image_scan = [f for f in debian_report["findings"] if f["category"] == "ImageScan"]
    assert len(image_scan) == 1
    assert f"TOTAL {len(cves)} >= 25" in debian_report["alert"]
    # the Debian changelog data carries no severities; counts are of CVE findings
    assert debian_report["counts"]["UNKNOWN"] == len(cves)
    assert sum(debian_report["counts"].values()) == len(cves)


def test_cyclonedx_sbom_lists_every_package_with_its_purl(
    fixtures: Path, debian_report: dict[str, Any]
) -> None:
    code, stdout, stderr = run_scan(f"oci:{fixtures}/oci/debian", db=None, fmt="cyclonedx")
    assert code == 0, stderr
    bom = json.loads(stdout)
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["specVersion"] == "1.6"
    purls = {c["purl"] for c in bom["components"] if "purl" in c}
    assert purls == {p["purl"] for p in debian_report["packages"]}
    assert any(c["type"] == "operating-system" and c["name"] == "debian" for c in bom["components"])


def test_spdx_sbom_lists_every_package_with_its_purl(fixtures: Path, debian_report: dict[str, Any]) -> None:
    code, stdout, stderr = run_scan(f"oci:{fixtures}/oci/debian", db=None, fmt="spdx")
    assert code == 0, stderr
    doc = json.loads(stdout)
    assert doc["spdxVersion"] == "SPDX-2.3"
    purls = {
        ref["referenceLocator"]
        for pkg in doc["packages"]
        for ref in pkg.get("externalRefs", [])
        if ref["referenceType"] == "purl"
    }
    assert purls == {p["purl"] for p in debian_report["packages"]}


def test_fail_on_exit_code(fixtures: Path, vuln_db: Path) -> None:
    code, _, _ = assay_scan(f"oci:{fixtures}/oci/debian", db=vuln_db, args=("--fail-on", "unknown"))
    assert code == 1
    code, _, _ = assay_scan(f"oci:{fixtures}/oci/debian", db=vuln_db, args=("--fail-on", "critical"))
    assert code == 0  # the Debian changelog data carries no severities: nothing is CRITICAL
