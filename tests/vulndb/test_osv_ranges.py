"""OSV range evaluation: introduced / fixed / last_affected / limit / versions."""

from __future__ import annotations

import msgspec
import pytest

from services.vulndb import osv
from services.vulndb.ranges import affected
from services.vulndb.versions import InvalidVersion, dpkg, semver

_DECODE = msgspec.json.Decoder(osv.Affected)


def entry(doc: str) -> osv.Affected:
    """An ``affected[]`` entry from its OSV JSON."""
    return _DECODE.decode(doc)


CURL = entry(
    '{"package":{"ecosystem":"Debian:12","name":"curl"},'
    '"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"7.88.1-10+deb12u6"}]}]}'
)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("7.74.0-1.3+deb11u7", (True, "7.88.1-10+deb12u6")),
        ("7.88.1-10+deb12u5", (True, "7.88.1-10+deb12u6")),
        ("7.88.1-10+deb12u6", (False, "")),  # at the fixed version
        ("7.88.1-10+deb12u14", (False, "")),  # above it
    ],
)
def test_introduced_zero_and_fixed(version: str, expected: tuple[bool, str]) -> None:
    assert affected(version, CURL, dpkg.compare) == expected


def test_introduced_bounds_the_range_below() -> None:
    e = entry('{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.5"},{"fixed":"2.0"}]}]}')
    assert affected("1.4", e, dpkg.compare) == (False, "")
    assert affected("1.5", e, dpkg.compare) == (True, "2.0")


def test_last_affected_is_inclusive() -> None:
    e = entry('{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"last_affected":"2.5.1"}]}]}')
    assert affected("2.5.1", e, dpkg.compare) == (True, "")
    assert affected("2.5.2", e, dpkg.compare) == (False, "")


def test_several_intervals_in_one_range_unsorted_events() -> None:
    # Events deliberately out of order: the evaluator sorts them first.
    e = entry(
        '{"ranges":[{"type":"ECOSYSTEM","events":['
        '{"fixed":"1.2"},{"introduced":"2.0"},{"introduced":"1.0"},{"fixed":"2.3"}]}]}'
    )
    assert affected("0.9", e, dpkg.compare) == (False, "")
    assert affected("1.1", e, dpkg.compare) == (True, "1.2")
    assert affected("1.5", e, dpkg.compare) == (False, "")
    assert affected("2.1", e, dpkg.compare) == (True, "2.3")
    assert affected("2.3", e, dpkg.compare) == (False, "")


def test_fixed_reported_is_the_lowest_above_the_installed_version() -> None:
    e = entry(
        '{"ranges":[{"type":"ECOSYSTEM","events":['
        '{"introduced":"0"},{"fixed":"3.0"},{"introduced":"3.1"},{"fixed":"4.0"}]}]}'
    )
    assert affected("2.0", e, dpkg.compare) == (True, "3.0")
    assert affected("3.5", e, dpkg.compare) == (True, "4.0")


def test_limit_caps_the_range() -> None:
    e = entry('{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"limit":"1.5"}]}]}')
    assert affected("1.2", e, dpkg.compare) == (True, "")
    assert affected("1.5", e, dpkg.compare) == (False, "")
    star = entry('{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"limit":"*"}]}]}')
    assert affected("99", star, dpkg.compare) == (True, "")


def test_multiple_ranges_first_match_reports_its_fix() -> None:
    e = entry(
        '{"ranges":['
        '{"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"fixed":"1.4"}]},'
        '{"type":"ECOSYSTEM","events":[{"introduced":"2.0"},{"fixed":"2.2"}]}]}'
    )
    assert affected("1.3", e, dpkg.compare) == (True, "1.4")
    assert affected("2.1", e, dpkg.compare) == (True, "2.2")
    assert affected("1.9", e, dpkg.compare) == (False, "")


def test_explicit_versions_list() -> None:
    e = entry('{"versions":["4.7.0","4.7.1"],"ranges":[]}')
    assert affected("4.7.1", e, dpkg.compare) == (True, "")
    assert affected("4.7.2", e, dpkg.compare) == (False, "")


def test_semver_range_uses_semver_precedence() -> None:
    e = entry('{"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}')
    # Passing dpkg's compare proves SEMVER ignores it: dpkg would put 4.17.21-rc.1 above 4.17.21.
    assert affected("4.17.21-rc.1", e, dpkg.compare) == (True, "4.17.21")
    assert affected("4.17.21", e, semver.compare) == (False, "")


def test_git_ranges_are_ignored() -> None:
    e = entry(
        '{"ranges":[{"type":"GIT","repo":"https://example.org/r.git",'
        '"events":[{"introduced":"0"},{"fixed":"abc123"}]}]}'
    )
    assert affected("1.0", e, dpkg.compare) == (False, "")


def test_invalid_version_raises() -> None:
    with pytest.raises(InvalidVersion):
        affected("7.88.1-", CURL, dpkg.compare)  # dpkg: "revision number is empty"
