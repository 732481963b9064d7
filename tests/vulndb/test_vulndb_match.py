"""match_packages: OS packages against real Debian 12 / Alpine v3.20 data and fixtures."""

from __future__ import annotations

import pytest

from schemas.records import Distro, PackageRecord
from services.vulndb import RESOLVERS, VulnDB, match_packages
from services.vulndb.osv import Severity
from services.vulndb.severity import band, cvss3_base_score, severity_of

BOOKWORM = Distro(id="debian", version_id="12", pretty_name="Debian GNU/Linux 12 (bookworm)")
ALPINE_320 = Distro(id="alpine", version_id="3.20.3")


def deb(name: str, version: str, source: str = "curl", source_version: str = "") -> PackageRecord:
    return PackageRecord(
        name=name,
        version=version,
        type="deb",
        purl=f"pkg:deb/debian/{name}@{version}?arch=amd64&distro=debian-12",
        source_name=source,
        source_version=source_version,
        layer_digest="sha256:" + "ab" * 32,
    )


def apk(name: str, version: str, origin: str) -> PackageRecord:
    return PackageRecord(
        name=name,
        version=version,
        type="apk",
        purl=f"pkg:apk/alpine/{name}@{version}?arch=x86_64&distro=alpine-3.20.3",
        source_name=origin,
        layer_digest="sha256:" + "cd" * 32,
    )


def test_curl_before_fix_is_affected(os_db: VulnDB) -> None:
    result = match_packages(os_db, BOOKWORM, [deb("libcurl4", "7.88.1-10+deb12u5")])
    by_id = {m.vuln_id: m for m in result.matches}
    m = by_id["CVE-2024-2398"]
    assert m.fixed_version == "7.88.1-10+deb12u6"
    assert m.advisory_ids == ["CVE-2024-2398", "x_DEBCL-CVE-2024-2398"]
    assert (m.package_name, m.package_version) == ("libcurl4", "7.88.1-10+deb12u5")
    assert m.package_purl.startswith("pkg:deb/debian/libcurl4@")
    assert m.ecosystem == "Debian:12"
    assert m.layer_digest == "sha256:" + "ab" * 32
    assert m.references == ["https://security-tracker.debian.org/tracker/CVE-2024-2398"]
    assert m.severity == "UNKNOWN"  # the changelog-derived records carry no severity
    assert result.notes == []


def test_curl_at_latest_update_is_not_affected(os_db: VulnDB) -> None:
    result = match_packages(
        os_db, Distro(id="debian", version_id="12.8"), [deb("curl", "7.88.1-10+deb12u14")]
    )
    assert result.matches == []
    assert result.notes == []


def test_source_version_is_compared_not_binary(os_db: VulnDB) -> None:
    # A binNMU binary version above the fix must not hide the vulnerable source version.
    pkg = deb("libcurl4", "7.88.1-10+deb12u5+b1", source_version="7.88.1-10+deb12u5")
    ids = {m.vuln_id for m in match_packages(os_db, BOOKWORM, [pkg]).matches}
    assert "CVE-2024-2398" in ids


def test_one_match_per_vulnerability_and_package(os_db: VulnDB) -> None:
    pkgs = [deb("libcurl4", "7.88.1-10+deb12u5"), deb("curl", "7.88.1-10+deb12u5")]
    matches = match_packages(os_db, BOOKWORM, pkgs).matches
    keys = [(m.vuln_id, m.package_name) for m in matches]
    assert len(keys) == len(set(keys))
    assert {m.package_name for m in matches} == {"curl", "libcurl4"}


def test_alpine_v320(os_db: VulnDB) -> None:
    pkgs = [apk("libcurl", "8.9.0-r0", "curl"), apk("curl", "8.14.1-r2", "curl")]
    result = match_packages(os_db, ALPINE_320, pkgs)
    old = {m.vuln_id: m for m in result.matches if m.package_name == "libcurl"}
    assert old["CVE-2024-8096"].fixed_version == "8.10.0-r0"
    assert old["CVE-2024-8096"].ecosystem == "Alpine:v3.20"
    assert "CVE-2024-2398" not in old  # fixed in 8.7.1-r0
    assert [m for m in result.matches if m.package_name == "curl"] == []
    assert result.notes == []


def test_unsupported_release_and_distro_are_notes(os_db: VulnDB) -> None:
    result = match_packages(os_db, Distro(id="debian", version_id="13"), [deb("curl", "8.14.1-2")])
    assert result.matches == []
    assert result.notes == [
        "no advisories for Debian:13 in the database: deb packages were not checked "
        "[coverage:no-advisories:Debian:13]"
    ]
    assert [g.id for g in result.gaps] == ["coverage:no-advisories:Debian:13"]
    result = match_packages(os_db, Distro(id="fedora", version_id="40"), [deb("curl", "7.81.0-1")])
    assert result.notes == [
        "deb packages on fedora 40 are not matched [coverage:unsupported-distro:fedora-40]"
    ]
    result = match_packages(os_db, None, [apk("musl", "1.2.5-r0", "musl")])
    assert result.notes == [
        "apk packages not matched: the image's distribution is unknown [coverage:unknown-distro:apk]"
    ]
    result = match_packages(os_db, Distro(id="debian"), [deb("curl", "7.88.1-10")])
    assert "no release number" in result.notes[0]


def test_ecosystems_without_data_are_gaps_noted_once(os_db: VulnDB) -> None:
    pkg = PackageRecord(name="requests", version="2.0.0", type="pypi", purl="pkg:pypi/requests@2.0.0")
    assert "pypi" in RESOLVERS
    result = match_packages(os_db, BOOKWORM, [pkg, pkg])  # this database holds Debian and Alpine only
    assert result.matches == []
    assert [(g.id, g.severity) for g in result.gaps] == [("coverage:no-advisories:PyPI", "LOW")]
    assert len(result.notes) == 1


def test_invalid_installed_version_is_a_note(os_db: VulnDB) -> None:
    result = match_packages(os_db, BOOKWORM, [deb("libcurl4", "garbage version")])
    assert result.matches == []
    assert len(result.notes) == 1
    assert "invalid dpkg version" in result.notes[0]


def test_advisories_for_one_cve_merge_and_severity(fixture_db: VulnDB) -> None:
    (m,) = match_packages(fixture_db, BOOKWORM, [deb("libcurl4", "7.88.1-10+deb12u5")]).matches
    assert m.vuln_id == "CVE-2024-2398"
    assert m.advisory_ids == ["CVE-2024-2398", "DEBIAN-CVE-2024-2398", "x_DEBCL-CVE-2024-2398"]
    assert m.severity == "HIGH"  # CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:H = 8.6
    assert m.summary == "curl: HTTP/2 push headers memory-leak"
    assert m.fixed_version == "7.88.1-10+deb12u6"


def test_details_are_truncated(fixture_db: VulnDB) -> None:
    (m,) = match_packages(fixture_db, BOOKWORM, [deb("libcurl4", "7.88.1-10+deb12u5")]).matches
    assert 0 < len(m.details) <= 2000


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:H", 8.6),
        ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3),
        ("CVSS:3.1/AV:N/AC:H/PR:L/UI:R/S:U/C:N/I:N/A:L", 2.6),
        ("CVSS:3.0/AV:L/AC:H/PR:L/UI:N/S:C/C:H/I:N/A:N", 5.6),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N", None),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", None),
    ],
)
def test_cvss3_base_score(vector: str, score: float | None) -> None:
    assert cvss3_base_score(vector) == score


def test_severity_precedence() -> None:
    vector = Severity(type="CVSS_V3", score="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    assert severity_of({"severity": "MODERATE"}, [], [vector]) == "MEDIUM"
    assert severity_of(None, [{"severity": "LOW"}], [vector]) == "LOW"
    assert severity_of(None, [None], [vector]) == "CRITICAL"
    assert severity_of(None, [], [Severity(type="Ubuntu", score="medium")]) == "MEDIUM"
    assert severity_of(None, [], [Severity(type="CVSS_V3", score="7.5")]) == "HIGH"
    assert severity_of(None, [], []) == "UNKNOWN"
    assert [band(s) for s in (9.0, 8.9, 7.0, 6.9, 4.0, 3.9, 0.1, 0.0)] == [
        "CRITICAL",
        "HIGH",
        "HIGH",
        "MEDIUM",
        "MEDIUM",
        "LOW",
        "LOW",
        "UNKNOWN",
    ]
