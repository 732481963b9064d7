"""Which matches ``errata.per_cve`` splits by CVE: an RPM distribution's errata naming CVEs, nothing else."""

from __future__ import annotations

from schemas.records import VulnMatch
from services.vulndb.errata import per_cve


def _match(vuln_id: str, ecosystem: str, ids: list[str]) -> VulnMatch:
    return VulnMatch(
        vuln_id=vuln_id,
        package_name="openssl-libs",
        package_version="1:3.0.1-41.el9_0",
        package_purl="pkg:rpm/almalinux/openssl-libs@3.0.1-41.el9_0",
        advisory_ids=ids,
        ecosystem=ecosystem,
        fixed_version="1:3.0.1-43.el9_0",
        severity="HIGH",
    )


RELATED = {"ALSA-2022:7288": ("CVE-2022-3786", "CVE-2022-3602"), "DSA-5279-1": ("CVE-2022-3786",)}


def test_an_rpm_erratum_becomes_one_match_per_cve_keeping_its_id_fix_and_rating() -> None:
    erratum = _match("ALSA-2022:7288", "AlmaLinux:9", ["ALSA-2022:7288"])
    split = per_cve(erratum, RELATED)
    assert [(m.vuln_id, m.advisory_ids, m.fixed_version, m.severity) for m in split] == [
        ("CVE-2022-3602", ["ALSA-2022:7288", "CVE-2022-3602"], "1:3.0.1-43.el9_0", "HIGH"),
        ("CVE-2022-3786", ["ALSA-2022:7288", "CVE-2022-3786"], "1:3.0.1-43.el9_0", "HIGH"),
    ]


def test_an_erratum_naming_no_cve_keeps_its_own_id() -> None:
    bugfix = _match("ELSA-2016-3645", "Oracle Linux:7", ["ELSA-2016-3645"])
    assert per_cve(bugfix, RELATED) == [bugfix]


def test_other_ecosystems_and_cve_named_matches_are_left_as_they_are() -> None:
    debian = _match("DSA-5279-1", "Debian:11", ["DSA-5279-1"])  # not an RPM distribution's erratum
    named = _match("CVE-2022-3602", "Red Hat:enterprise_linux:9::baseos", ["CVE-2022-3602"])
    assert per_cve(debian, RELATED) == [debian]
    assert per_cve(named, RELATED) == [named]
