"""``assay scan --format json``: a CVE finding carries its severity source, CVSS vector and EPSS.

A real scan of a small Debian 12 root file system (libcurl4 from curl 7.88.1-10+deb12u5) against an
advisory database built from the OSV and EPSS samples in ``tests/vulndb/testdata``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.cli.main import main
from tests.realworld.scan import run_scan

TESTDATA = Path(__file__).parents[1] / "vulndb" / "testdata"
OS_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
)
DPKG_STATUS = """Package: libcurl4
Status: install ok installed
Priority: optional
Section: libs
Architecture: amd64
Source: curl
Version: 7.88.1-10+deb12u5
Description: easy-to-use client-side URL transfer library (OpenSSL flavour)

"""


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "var" / "lib" / "dpkg").mkdir(parents=True)
    (root / "etc" / "os-release").write_text(OS_RELEASE)
    (root / "etc" / "debian_version").write_text("12.5\n")
    (root / "var" / "lib" / "dpkg" / "status").write_text(DPKG_STATUS)
    return root


def _db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    db = tmp_path / "vuln.db"
    epss = TESTDATA / "epss" / "epss_scores-sample.csv"
    args = ["--source", str(TESTDATA / "osv"), "--ecosystems", "Debian", "--epss", str(epss)]
    assert main(["--data-dir", str(tmp_path), "--db", str(db), "db", "update", *args]) == 0
    capsys.readouterr()
    return db


def test_scan_json_report_carries_severity_source_vector_and_epss(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_scan(f"dir:{_root(tmp_path)}", db=_db(tmp_path, capsys), fmt="json")
    assert code == 0, err
    [cve] = [f for f in json.loads(out)["findings"] if f["category"] == "CVE"]
    assert (cve["id"], cve["package_name"]) == ("CVE-2024-2398", "libcurl4")
    # Debian's advisory gives a CVSS v3.1 vector; the severity is rated from it
    assert cve["cvss_vector"] == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:H"
    assert (cve["severity"], cve["severity_source"], cve["cvss_score"]) == ("HIGH", "cvss_v3", 8.6)
    assert cve["epss"] == 0.00294  # the sample's EPSS score for CVE-2024-2398
