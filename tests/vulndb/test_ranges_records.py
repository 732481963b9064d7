"""Range evaluation on real OSV records (tests/vulndb/testdata/ranges, see its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.vulndb import osv
from services.vulndb.ranges import Verdict, affected, evaluate
from services.vulndb.versions import InvalidVersion, comparator

RECORDS = Path(__file__).parent / "testdata" / "ranges"


def entries(filename: str, package: str) -> tuple[str, list[osv.Affected]]:
    """The record's ecosystem and its ``affected[]`` entries for ``package``."""
    record = osv.decode_record((RECORDS / filename).read_bytes())
    found = [a for a in record.affected or () if a.package is not None and a.package.name == package]
    assert found, (filename, package)
    assert found[0].package is not None
    return found[0].package.ecosystem, found


def check(filename: str, package: str, version: str) -> Verdict:
    ecosystem, found = entries(filename, package)
    return evaluate(version, found, comparator(ecosystem))


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.7.13", Verdict(True, "1.7.14")),
        ("1.7.14", Verdict(False)),
        ("1.7.20", Verdict(False)),  # between the two intervals
        ("1.8.0", Verdict(True, "1.8.7")),
        ("1.8.7", Verdict(False)),
        ("2.0.0", Verdict(False)),
        ("1.8.0-rc1", Verdict(False)),  # a pre-release of 1.8.0 sorts below it (SemVer)
        ("0.0.0-20200101000000-abcdef123456", Verdict(True, "1.7.14")),  # a Go pseudo-version
    ],
)
def test_go_semver_range_with_two_intervals(version: str, expected: Verdict) -> None:
    assert check("GO-2022-0387.json", "github.com/argoproj/argo-cd", version) == expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.3.3", Verdict(True, "1.3.4")),
        ("1.3.4", Verdict(False)),
        ("1.4.1", Verdict(True, "1.4.2")),  # the second affected[] entry
        ("1.4.2", Verdict(False)),
    ],
)
def test_go_two_entries_for_one_module(version: str, expected: Verdict) -> None:
    assert check("GO-2023-1497.json", "github.com/sylabs/scs-library-client", version) == expected


def test_pypi_ecosystem_range_git_range_and_versions_list() -> None:
    ecosystem, found = entries("PYSEC-2021-375.json", "cobbler")
    compare = comparator(ecosystem)
    assert evaluate("3.2.2", found, compare) == Verdict(True, "3.3.0")
    assert evaluate("3.3.0", found, compare) == Verdict(False)
    # "0.6.3-2" is only matched through the explicit versions list (it is PEP 440: 0.6.3.post2).
    assert evaluate("0.6.3-2", found, compare) == Verdict(True, "3.3.0")
    # The GIT range is ignored without a note: the entry has an ECOSYSTEM range to go by.
    assert evaluate("3.4.0", found, compare).notes == ()


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.3.9", Verdict(True)),
        ("2.3.10", Verdict(False)),
        ("0.1", Verdict(True)),
        ("2.3.9.post1", Verdict(False)),
    ],
)
def test_pypi_last_affected_is_inclusive_and_reports_no_fix(version: str, expected: Verdict) -> None:
    assert check("PYSEC-2024-282.json", "lunasvg", version) == expected


@pytest.mark.parametrize(
    ("version", "hit"),
    [
        ("0.9", False),
        ("1.0.0.Final", True),
        ("1.3.4.Final", True),  # Final is a release qualifier: equal to 1.3.4
        ("1.3.5.Final", False),
        ("1.4.0.Beta1", False),  # between the ranges
        ("2.0.0.Beta1", False),  # a Beta of 2.0.0 sorts below "introduced: 2"
        ("2.0.0.Final", True),
        ("2.0.1.Final", False),
    ],
)
def test_maven_two_ranges_with_last_affected(version: str, hit: bool) -> None:
    assert check("x_VICTIMS-CVE-2016-4993.json", "io.undertow:undertow-core", version) == Verdict(hit)


def test_npm_bad_range_is_a_note_and_the_other_entry_still_counts() -> None:
    ecosystem, found = entries("GHSA-r683-j2x4-v87g.json", "node-fetch")
    compare = comparator(ecosystem)
    verdict = evaluate("2.6.6", found, compare)
    assert verdict.affected
    assert verdict.fixed == "2.6.7"
    assert any("'1.0'" in n and "semver" in n for n in verdict.notes)
    assert not evaluate("2.6.7", found, compare).affected
    # The per-entry form raises, so its caller can say which advisory was skipped.
    with pytest.raises(InvalidVersion, match=r"invalid semver version '1\.0'"):
        affected("2.6.6", found[0], compare)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("5.1.9", Verdict(True, "5.2.0")),
        ("5.2.0", Verdict(False)),
        ("5.2.10", Verdict(False)),
        ("5.3", Verdict(True, "6.2.1")),
        ("6.0.0.pre1", Verdict(True, "6.2.1")),
        ("6.2.1", Verdict(False)),
    ],
)
def test_rubygems_two_intervals(version: str, expected: Verdict) -> None:
    assert check("x_RUBYSEC-sidekiq-CVE-2021-30151.json", "sidekiq", version) == expected


def test_almalinux_reports_the_first_fix_that_clears_every_entry() -> None:
    ecosystem, found = entries("ALBA-2021_1694.json", "libmount-devel")
    assert ecosystem == "AlmaLinux:8"
    compare = comparator(ecosystem)
    # 2.32.1-27.el8 fixes the first entry but is still below the second entry's fix.
    assert evaluate("2.32.1-26.el8", found, compare) == Verdict(True, "2.32.1-27.el8.alma")
    assert affected("2.32.1-26.el8", found[0], compare) == (True, "2.32.1-27.el8")
    assert evaluate("2.32.1-27.el8.alma", found, compare) == Verdict(False)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("3.9.18-3.el9_4.4", Verdict(True, "0:3.9.18-3.el9_4.5")),
        ("0:3.9.18-3.el9_4.5", Verdict(False)),
        ("3.9.18-3.el9_4.5", Verdict(False)),  # no epoch means epoch 0
        ("3.9.18-3.el9_4.10", Verdict(False)),  # release parts compare numerically
        ("3.9.18-3.el9", Verdict(True, "0:3.9.18-3.el9_4.5")),
    ],
)
def test_red_hat_ecosystem_with_suffix_and_epoch(version: str, expected: Verdict) -> None:
    assert check("RHSA-2024_6163.json", "python3.9", version) == expected
