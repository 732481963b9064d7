"""dpkg status parsing, against files copied from a real Debian 12 system."""

from pathlib import Path

import pytest

from schemas.records import Distro
from services.engine.catalogers.debian.package import dpkg_to_package
from services.engine.catalogers.debian.parse_dpkg_status import FIELD_MAX, parse_dpkg_status
from services.engine.catalogers.problems import PROBLEMS_PER_FILE

HERE = Path(__file__).parent


def _parse(rel: str, root: str = "testdata"):
    return parse_dpkg_status(rel, (HERE / root / rel).read_bytes())


def test_status_file_yields_installed_packages_with_sources() -> None:
    result = _parse("var/lib/dpkg/status")
    by_name = {p.name: p for p in result.packages}
    assert result.problems == []
    assert "removed-pkg" not in by_name  # config-files only: not installed
    assert by_name["libssl3"].source_name == "openssl"
    assert by_name["libssl3"].source_version == by_name["libssl3"].version
    assert by_name["zlib1g"].version == "1:1.2.13.dfsg-1"
    # a binNMU: the source version in parentheses differs from the binary version
    assert by_name["bash"].version == "5.2.15-2+b8"
    assert (by_name["bash"].source_name, by_name["bash"].source_version) == ("bash", "5.2.15-2")
    assert by_name["curl"].source_name == "curl"


def test_distroless_status_d_entry_has_no_status_field() -> None:
    result = _parse("var/lib/dpkg/status.d/tzdata")
    assert [(p.name, p.version, p.arch) for p in result.packages] == [("tzdata", "2024a-0+deb12u1", "all")]


def test_distroless_md5sums_beside_a_stanza_file_is_not_a_stanza() -> None:
    result = _parse("var/lib/dpkg/status.d/tzdata.md5sums")
    assert (result.packages, result.problems) == ([], [])


def test_corrupt_status_keeps_valid_stanzas_and_reports_the_rest() -> None:
    result = _parse("var/lib/dpkg/status", root="testdata-corrupt")
    # zlib1g's Source field is malformed: the package is kept, the field reported
    assert [p.name for p in result.packages] == ["libc6", "zlib1g"]
    assert len(result.problems) == 4
    assert all(p.startswith("var/lib/dpkg/status: ") for p in result.problems)
    assert any("stanza at line 15: malformed line" in p for p in result.problems)  # binary junk
    assert any("malformed line 'this line has no colon'" in p for p in result.problems)
    assert any("no Package field" in p for p in result.problems)
    assert any("malformed Source field" in p for p in result.problems)


def test_purl_carries_distro_arch_and_upstream() -> None:
    bash = next(p for p in _parse("var/lib/dpkg/status").packages if p.name == "bash")
    pkg = dpkg_to_package(bash, Distro(id="debian", version_id="12"), "/var/lib/dpkg/status")
    assert (
        pkg.purl == "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2"
    )
    assert pkg.type == "deb"
    assert pkg.locations == ["/var/lib/dpkg/status"]


@pytest.mark.timeout(60)  # joined by repeated concatenation this took hours (quadratic): a hang
def test_many_continuation_lines_parse_in_one_linear_pass() -> None:
    stanza = b"Package: big\nVersion: 1\nDescription: x\n" + b" more text on a continuation line\n" * 400_000
    result = parse_dpkg_status("var/lib/dpkg/status", stanza + b"\nPackage: next\nVersion: 2\n")
    assert [(p.name, p.version) for p in result.packages] == [("big", "1"), ("next", "2")]
    assert result.problems == []


def test_a_wanted_field_continued_past_its_cap_is_a_problem() -> None:
    data = (
        b"Package: huge\nVersion: 1\nSource: s\n"
        + b" x\n" * (FIELD_MAX + 10)
        + b"\nPackage: ok\nVersion: 1\n"
    )
    result = parse_dpkg_status("var/lib/dpkg/status.d/huge", data)
    assert [p.name for p in result.packages] == ["ok"]
    assert result.problems == [
        f"var/lib/dpkg/status.d/huge: stanza at line 1: field Source is {2 * (FIELD_MAX + 10) + 1} "
        f"characters, over {FIELD_MAX}"
    ]


def test_problems_per_file_are_capped_with_a_summary_line() -> None:
    data = b"".join(b"Package: p%d\n\n" % i for i in range(5000))
    result = parse_dpkg_status("var/lib/dpkg/status", data)
    assert result.packages == []
    assert len(result.problems) == PROBLEMS_PER_FILE + 1
    assert result.problems[-1].endswith(f"{5000 - PROBLEMS_PER_FILE} more problems not listed")
