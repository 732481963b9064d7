"""CentOS, Rocky, AlmaLinux and RHEL images matched with their vendor's records, or a rebuild's as a stand-in.

The records are real: Red Hat's RHSA-2024:0811 (sudo, RHEL 8 BaseOS and RHEL 9) and
AlmaLinux's ALSA-2022:7288 / ALSA-2022:6224 (openssl-libs, AlmaLinux 9) and four of its sudo
errata for AlmaLinux 9, from ../shared/vulndata. Errata are reported by the CVEs they fix.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from schemas.records import Distro, PackageRecord
from services.vulndb import VulnDB, update_db
from services.vulndb.matcher import match_packages
from services.vulndb.resolvers import RESOLVERS, Query
from tests.harness.requirements import require, shared_dir

RECORDS = {
    "Red Hat": ["RHSA-2024:0811.json"],
    "AlmaLinux": [
        "ALSA-2022:7288.json",
        "ALSA-2022:6224.json",
        "ALSA-2023:0282.json",  # sudo, CVE-2023-22809, fixed in 1.9.5p2-7.el9_1.1
        "ALSA-2024:0811.json",  # sudo, Red Hat's RHSA-2024:0811 rebuilt
        "ALSA-2026:12310.json",  # sudo, CVE-2026-35535, fixed in 1.9.5p2-15.el9_7
        "ALSA-2026:19220.json",  # sudo, CVE-2026-35535 again, fixed in 1.9.17p2-3.el9_8
    ],
}


async def _db(tmp: Path, vendors: tuple[str, ...]) -> Path:
    osv_dir = tmp / "osv"
    osv_dir.mkdir()
    for vendor in vendors:
        archive = shared_dir() / "vulndata" / vendor / "all.zip"
        require(archive.is_file(), f"{archive} is missing")
        with zipfile.ZipFile(archive) as z:
            for name in RECORDS[vendor]:
                (osv_dir / name.replace(":", "_")).write_bytes(z.read(name))
    db = tmp / "db.sqlite"
    await update_db(str(osv_dir), db)
    return db


def _rpm(name: str, version: str, epoch: str = "", source: str = "") -> PackageRecord:
    return PackageRecord(
        name=name,
        version=version,
        type="rpm",
        purl=f"pkg:rpm/centos/{name}@{version}",
        source_name=source or name,
        metadata={"epoch": epoch} if epoch else {},
    )


SUDO_8 = _rpm("sudo", "1.8.29-10.el8")
SUDO_CVES = ("CVE-2023-28486", "CVE-2023-28487", "CVE-2023-42465")  # RHSA-2024:0811's
OPENSSL_CVES = ("CVE-2022-3602", "CVE-2022-3786")  # ALSA-2022:7288's
OPENSSL_9 = _rpm("openssl-libs", "3.0.1-41.el9_0", epoch="1", source="openssl")


@pytest.mark.parametrize(
    ("distro", "ecosystems"),
    [
        (Distro(id="centos", version_id="8"), "Red Hat:enterprise_linux:8::baseos"),
        (Distro(id="centos", version_id="7"), "Red Hat:enterprise_linux:7::server"),
        (Distro(id="rhel", version_id="7.9"), "Red Hat:enterprise_linux:7::server"),
        (Distro(id="rhel", version_id="10.1"), "Red Hat:enterprise_linux:10.1"),
    ],
)
def test_centos_and_every_rhel_generation_resolve_to_red_hats_streams(
    distro: Distro, ecosystems: str
) -> None:
    query = RESOLVERS["rpm"](distro, SUDO_8)
    assert isinstance(query, Query)
    assert query.ecosystem == ecosystems
    if distro.version_id.startswith("7"):
        assert "Red Hat:rhel_els:7" in query.ecosystems
        assert "Red Hat:enterprise_linux:7::workstation" in query.ecosystems
    if distro.version_id == "10.1":
        assert query.ecosystems == ("Red Hat:enterprise_linux:10.1", "Red Hat:enterprise_linux:10.0")


async def test_centos_8_is_matched_with_red_hats_records(tmp_path: Path) -> None:
    with VulnDB.open(await _db(tmp_path, ("Red Hat",))) as db:
        result = match_packages(db, Distro(id="centos", version_id="8"), [SUDO_8])
    # one finding per CVE the RHSA fixes, as Trivy reports them, the RHSA kept among its ids
    assert [(m.vuln_id, m.fixed_version, m.ecosystem) for m in result.matches] == [
        (cve, "0:1.9.5p2-1.el8_9", "Red Hat:enterprise_linux:8::baseos") for cve in SUDO_CVES
    ]
    assert [m.advisory_ids for m in result.matches] == [[cve, "RHSA-2024:0811"] for cve in SUDO_CVES]
    assert result.gaps == []


async def test_rocky_without_its_own_records_uses_red_hats_then_almalinux(tmp_path: Path) -> None:
    rocky9 = Distro(id="rocky", version_id="9.0")
    with VulnDB.open(await _db(tmp_path, ("Red Hat", "AlmaLinux"))) as db:
        result = match_packages(db, rocky9, [_rpm("sudo", "1.9.5p2-7.el9")])
    # Red Hat is the first stand-in: its record is used, AlmaLinux's is not read as well
    assert [(m.vuln_id, m.ecosystem, m.advisory_ids) for m in result.matches] == [
        (cve, "Red Hat:enterprise_linux:9::baseos", [cve, "RHSA-2024:0811"]) for cve in SUDO_CVES
    ]
    assert any("matched with Red Hat records" in n and "none for Rocky Linux:9" in n for n in result.notes)


async def test_centos_9_falls_back_to_almalinux_when_red_hat_has_no_records(tmp_path: Path) -> None:
    centos9 = Distro(id="centos", version_id="9")
    with VulnDB.open(await _db(tmp_path, ("AlmaLinux",))) as db:
        result = match_packages(db, centos9, [OPENSSL_9])
    # ALSA-2022:6224 is fixed exactly at the installed 1:3.0.1-41.el9_0: only the later fix applies
    assert [(m.vuln_id, m.fixed_version, m.advisory_ids) for m in result.matches] == [
        (cve, "1:3.0.1-43.el9_0", ["ALSA-2022:7288", cve]) for cve in OPENSSL_CVES
    ]
    assert result.gaps == []
    assert any("matched with AlmaLinux records (AlmaLinux:9)" in n for n in result.notes)


async def test_centos_7_without_red_hat_7_records_is_a_named_gap_not_an_unsupported_distro(
    tmp_path: Path,
) -> None:
    with VulnDB.open(await _db(tmp_path, ("Red Hat", "AlmaLinux"))) as db:
        result = match_packages(db, Distro(id="centos", version_id="7"), [_rpm("sudo", "1.8.23-10.el7")])
    assert result.matches == []
    assert [g.id for g in result.gaps] == ["coverage:no-advisories:Red Hat:enterprise_linux:7::server"]


async def test_a_rebuilds_advisory_is_rated_by_the_errata_title_it_keeps(tmp_path: Path) -> None:
    # ALSA-2022:7288's summary is Red Hat's errata title, "Important: openssl security update"
    with VulnDB.open(await _db(tmp_path, ("AlmaLinux",))) as db:
        result = match_packages(db, Distro(id="almalinux", version_id="9.0"), [OPENSSL_9])
    assert [(m.vuln_id, m.severity, m.severity_source) for m in result.matches] == [
        (cve, "HIGH", "almalinux") for cve in OPENSSL_CVES
    ]


async def test_rhel_9_takes_almalinux_records_only_for_packages_red_hat_has_none_for(tmp_path: Path) -> None:
    sudo = _rpm("sudo", "1.9.5p2-7.el9")
    with VulnDB.open(await _db(tmp_path, ("Red Hat", "AlmaLinux"))) as db:
        result = match_packages(db, Distro(id="rhel", version_id="9.2"), [sudo, OPENSSL_9])
    found = {(m.package_name, m.vuln_id): m.ecosystem for m in result.matches}
    # sudo has Red Hat's record: its CVEs only, none from AlmaLinux's sudo errata (three would apply);
    # Red Hat has nothing on openssl here, so AlmaLinux's record stands in, and the match says whose it is
    assert found == {
        **{("sudo", cve): "Red Hat:enterprise_linux:9::baseos" for cve in SUDO_CVES},
        **{("openssl-libs", cve): "AlmaLinux:9" for cve in OPENSSL_CVES},
    }
    assert (
        "rpm packages without a Red Hat:enterprise_linux:9::baseos record matched with AlmaLinux records "
        "(AlmaLinux:9): openssl-libs"
    ) in result.notes
    assert result.gaps == []


async def test_two_errata_fixing_one_cve_are_one_finding_with_the_first_fix(tmp_path: Path) -> None:
    sudo = _rpm("sudo", "1.9.5p2-7.el9")
    with VulnDB.open(await _db(tmp_path, ("AlmaLinux",))) as db:
        result = match_packages(db, Distro(id="almalinux", version_id="9.4"), [sudo])
    found = {m.vuln_id: m for m in result.matches}
    assert sorted(found) == sorted(["CVE-2023-22809", *SUDO_CVES, "CVE-2026-35535"])
    twice = found["CVE-2026-35535"]
    assert (twice.fixed_version, twice.advisory_ids) == (
        "1.9.5p2-15.el9_7",
        ["ALSA-2026:12310", "ALSA-2026:19220", "CVE-2026-35535"],
    )
