"""The RPM fixture images (tests/fixtures/build-rpm-images.sh) matched with a RHEL rebuild's records.

The database holds only AlmaLinux's real OSV records (../shared/vulndata/AlmaLinux): the
RHEL 9 image has no Red Hat records to use, so AlmaLinux 9's stand in, and its findings
must be exactly those rpm itself orders below a fix (``rpm.vercmp`` is the oracle), reported
by the CVEs each erratum fixes. Adding Red Hat's few real records (for packages the image
lacks) changes nothing: the stand-in is chosen per package. CentOS 7
resolves to Red Hat's RHEL 7 streams, which nobody here publishes: a coverage gap naming
them, never "unsupported distribution".
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from services.vulndb import update_db
from tests.harness.requirements import require
from tests.realworld.scan import assay_scan

pytestmark = pytest.mark.realworld


@pytest.fixture(scope="module")
def alma_db(vulndata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alma") / "vuln.db"
    asyncio.run(update_db(str(vulndata), path, ecosystems=["AlmaLinux"]))
    return path


@pytest.fixture(scope="module")
def alma_and_red_hat_db(vulndata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alma-rh") / "vuln.db"
    asyncio.run(update_db(str(vulndata), path, ecosystems=["AlmaLinux", "Red Hat"]))
    return path


def _scan(rpm_fixtures: Path, image: str, db: Path) -> dict[str, Any]:
    code, report, stderr = assay_scan(f"oci:{rpm_fixtures}/oci/{image}", db=db, args=("--no-content",))
    assert code == 0, stderr
    return report


def _rpm_lt(pairs: list[tuple[str, str]]) -> list[bool]:
    quoted = ",".join(f"{{[[{a}]],[[{b}]]}}" for a, b in pairs)
    loop = "do o[#o+1]=rpm.vercmp(p[1],p[2]) end print(table.concat(o,' '))"
    lua = f"local o={{}} for _,p in ipairs({{{quoted}}}) {loop}"
    out = subprocess.run(["rpm", "--eval", f"%{{lua: {lua}}}"], capture_output=True, text=True, check=True)
    return [int(x) < 0 for x in out.stdout.split()]


def _reported_ids(record: dict[str, Any]) -> list[str]:
    # an erratum is reported by the CVEs it fixes, as Trivy reports them, else by its own id
    return [i for i in record.get("related", []) if i.startswith("CVE-")] or [record["id"]]


def _expected(report: dict[str, Any], vulndata: Path) -> set[tuple[str, str]]:
    rpms = {p["name"]: p for p in report["packages"] if p["type"] == "rpm"}
    candidates: list[tuple[str, str, str, str]] = []  # (package, CVE or advisory, installed, fixed)
    with zipfile.ZipFile(vulndata / "AlmaLinux" / "all.zip") as z:
        for member in z.namelist():
            record = json.loads(z.read(member))
            for affected in record["affected"]:
                pkg = affected["package"]
                if pkg["ecosystem"] != "AlmaLinux:9":
                    continue
                for found in [p for p in rpms.values() if pkg["name"] in (p["name"], p["source_name"])]:
                    epoch = found["metadata"].get("epoch", "")
                    version = found["version"]
                    installed = f"{epoch}:{version}" if epoch and ":" not in version else version
                    for rng in affected.get("ranges", []):
                        fixes = [e["fixed"] for e in rng["events"] if "fixed" in e]
                        for ident in _reported_ids(record) if fixes else []:
                            candidates.append((found["name"], ident, installed, fixes[0]))
    verdicts = _rpm_lt([(installed, fixed) for _, _, installed, fixed in candidates])
    return {(name, ident) for (name, ident, _, _), lt in zip(candidates, verdicts, strict=True) if lt}


def test_rhel9_image_is_matched_with_almalinux_records_exactly_as_rpm_orders_them(
    rpm_fixtures: Path, alma_db: Path, vulndata: Path
) -> None:
    require(shutil.which("rpm") is not None, "rpm is needed as the version-ordering oracle")
    report = _scan(rpm_fixtures, "rhel9", alma_db)
    found = {(m["package_name"], m["vuln_id"]) for m in report["matches"]}
    assert found == _expected(report, vulndata)
    assert {"openssl-libs", "libcurl", "glibc", "zlib"} <= {name for name, _ in found}
    # ALSA-2022:7288 is fixed at exactly the installed 1:3.0.1-43.el9_0
    assert not [m for m in report["matches"] if "ALSA-2022:7288" in m["advisory_ids"]]
    assert any("matched with AlmaLinux records (AlmaLinux:9)" in n for n in report["notes"])
    assert all(m["ecosystem"] == "AlmaLinux:9" for m in report["matches"])
    # rated by the Red Hat errata title each ALSA keeps ("Important: openssl security update")
    assert {m["severity_source"] for m in report["matches"]} == {"almalinux"}
    assert not [f for f in report["findings"] if f["category"] != "CVE" and "coverage" in f["id"]]


def test_a_few_red_hat_records_leave_the_rhel9_images_other_packages_to_almalinux(
    rpm_fixtures: Path, alma_db: Path, alma_and_red_hat_db: Path
) -> None:
    # Red Hat's records here are for sudo, python3.9 and tigervnc, none of which the image has:
    # each of its packages takes AlmaLinux's records, so the findings are those of AlmaLinux alone
    alone = _scan(rpm_fixtures, "rhel9", alma_db)
    both = _scan(rpm_fixtures, "rhel9", alma_and_red_hat_db)
    found = {(m["package_name"], m["vuln_id"], m["ecosystem"]) for m in both["matches"]}
    assert found == {(m["package_name"], m["vuln_id"], m["ecosystem"]) for m in alone["matches"]}
    assert found
    assert [f["finding_id"] for f in both["findings"]] == [f["finding_id"] for f in alone["findings"]]
    assert any(
        "without a Red Hat:enterprise_linux:9::baseos record matched with AlmaLinux records" in n
        for n in both["notes"]
    )


def test_centos7_image_resolves_to_red_hats_rhel7_streams(rpm_fixtures: Path, alma_db: Path) -> None:
    report = _scan(rpm_fixtures, "centos7", alma_db)
    gaps = {f["id"] for f in report["findings"] if f["id"].startswith("coverage:")}
    assert gaps == {
        "coverage:no-advisories:Red Hat:enterprise_linux:7::server",
        "coverage:eol-distro:centos-7",
    }
    assert report["matches"] == []
