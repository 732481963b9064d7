"""OSV range semantics on OSV-shaped entries: event order, ties, limits, range types, fixes, notes."""

from __future__ import annotations

import itertools
import random

import msgspec
import pytest

from services.vulndb import osv
from services.vulndb.ranges import Verdict, affected, evaluate, in_range
from services.vulndb.versions import InvalidVersion, comparator, dpkg, semver

_DECODE = msgspec.json.Decoder(osv.Affected)
PYPI = comparator("PyPI")
NPM = comparator("npm")


def entry(doc: str) -> osv.Affected:
    """An ``affected[]`` entry from its OSV JSON."""
    return _DECODE.decode(doc)


def ecosystem_range(*events: str) -> osv.Affected:
    return entry('{"ranges":[{"type":"ECOSYSTEM","events":[' + ",".join(events) + "]}]}")


TWO_INTERVALS = [
    '{"introduced":"1.0"}',
    '{"fixed":"1.2"}',
    '{"introduced":"2.0"}',
    '{"last_affected":"2.3"}',
    '{"introduced":"3.0"}',
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(TWO_INTERVALS)))))
def test_event_order_does_not_matter(order: tuple[int, ...]) -> None:
    e = ecosystem_range(*(TWO_INTERVALS[i] for i in order))
    got = {
        v: evaluate(v, [e], PYPI)
        for v in ("0.9", "1.0", "1.1", "1.2", "1.9", "2.0", "2.3", "2.3.1", "3.0", "9")
    }
    assert got == {
        "0.9": Verdict(False),
        "1.0": Verdict(True, "1.2"),
        "1.1": Verdict(True, "1.2"),
        "1.2": Verdict(False),
        "1.9": Verdict(False),
        "2.0": Verdict(True),  # last_affected: no fixed version to report
        "2.3": Verdict(True),
        "2.3.1": Verdict(False),
        "3.0": Verdict(True),  # introduced with nothing after it: every later version
        "9": Verdict(True),
    }


def _reference(version: int, events: list[tuple[str, int]]) -> bool:
    """The OSV schema's evaluation pseudo-code: sort the events, then replay them."""
    vulnerable = False
    for kind, at in sorted(events, key=lambda e: e[1]):
        if kind == "introduced" and version >= at:
            vulnerable = True
        elif (kind == "fixed" and version >= at) or (kind == "last_affected" and version > at):
            vulnerable = False
    return vulnerable


def test_agrees_with_the_schema_pseudo_code_on_random_timelines() -> None:
    rng = random.Random(4)
    kinds = ("introduced", "fixed", "last_affected")
    for _ in range(2000):
        points = rng.sample(range(1, 30), rng.randint(1, 6))  # distinct: the schema leaves ties open
        events = [(rng.choice(kinds), p) for p in points]
        osv_events = [osv.Event(**{kind: f"{at}.0.0"}) for kind, at in events]
        for version in range(0, 32):
            got = in_range(f"{version}.0.0", osv_events, semver.compare)
            assert got == _reference(version, events), (version, events)


def test_ties_the_closing_event_wins() -> None:
    same = ecosystem_range('{"introduced":"1.0"}', '{"fixed":"1.0"}')
    assert evaluate("1.0", [same], PYPI) == Verdict(False)
    reopened = ecosystem_range('{"introduced":"0"}', '{"fixed":"2.0"}', '{"introduced":"2.0"}')
    assert evaluate("2.0", [reopened], PYPI) == Verdict(False)
    single = ecosystem_range('{"introduced":"1.0"}', '{"last_affected":"1.0"}')
    assert evaluate("1.0", [single], PYPI) == Verdict(True)
    assert evaluate("1.0.post1", [single], PYPI) == Verdict(False)


def test_introduced_zero_is_below_every_version() -> None:
    e = ecosystem_range('{"fixed":"1.0"}', '{"introduced":"0"}')
    assert evaluate("0.0.0.dev0", [e], PYPI) == Verdict(True, "1.0")
    assert evaluate("0", [e], PYPI) == Verdict(True, "1.0")


def test_limit_caps_a_range() -> None:
    e = ecosystem_range('{"introduced":"1.0"}', '{"limit":"1.5"}')
    assert evaluate("1.4", [e], PYPI) == Verdict(True)
    assert evaluate("1.5", [e], PYPI) == Verdict(False)
    star = ecosystem_range('{"limit":"*"}', '{"introduced":"1.0"}')
    assert evaluate("99", [star], PYPI) == Verdict(True)
    capped_fix = ecosystem_range('{"introduced":"1.0"}', '{"fixed":"2.0"}', '{"limit":"1.8"}')
    assert evaluate("1.9", [capped_fix], PYPI) == Verdict(False)
    assert evaluate("1.7", [capped_fix], PYPI) == Verdict(True, "2.0")


def test_no_introduced_means_nothing_is_affected() -> None:
    assert evaluate("1.0", [ecosystem_range('{"fixed":"2.0"}')], PYPI) == Verdict(False)
    assert evaluate("1.0", [entry("{}")], PYPI) == Verdict(False)


def test_semver_range_uses_semver_even_in_a_dpkg_ecosystem() -> None:
    e = entry('{"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}')
    # dpkg reads "1.0.0-rc.1" as upstream 1.0.0, revision rc.1: above 1.0.0. SemVer puts it below.
    assert dpkg.compare("1.0.0-rc.1", "1.0.0") == 1
    assert evaluate("1.0.0-rc.1", [e], dpkg.compare) == Verdict(True, "1.0.0")
    # An installed version SemVer cannot read: the range is skipped, with the reason.
    verdict = evaluate("1.0-1", [e], dpkg.compare)
    assert not verdict.affected
    assert len(verdict.notes) == 1
    assert "invalid semver version '1.0-1'" in verdict.notes[0]


def test_git_and_unknown_ranges_are_ignored_with_a_note_when_nothing_else_applies() -> None:
    git = entry(
        '{"ranges":[{"type":"GIT","repo":"https://example.org/r.git",'
        '"events":[{"introduced":"0"},{"fixed":"8f8a1c6"}]}]}'
    )
    verdict = evaluate("1.0", [git], PYPI)
    assert not verdict.affected
    assert verdict.notes == (
        "GIT ranges not evaluated: they name commits, which need the repository history",
    )
    odd = entry('{"ranges":[{"type":"CALVER","events":[{"introduced":"0"}]}]}')
    assert evaluate("1.0", [odd], PYPI).notes == ("range types CALVER not evaluated",)
    with_list = entry(
        '{"versions":["1.0"],"ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"0"}]}]}'
    )
    assert evaluate("1.0", [with_list], PYPI) == Verdict(True)


def test_fixed_is_the_smallest_fix_above_that_clears_every_range() -> None:
    apart = entry(
        '{"ranges":['
        '{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]},'
        '{"type":"ECOSYSTEM","events":[{"introduced":"1.5"},{"fixed":"2.5"}]}]}'
    )
    assert evaluate("1.0", [apart], PYPI) == Verdict(True, "1.2")
    assert evaluate("1.6", [apart], PYPI) == Verdict(True, "2.5")
    overlapping = entry(
        '{"ranges":['
        '{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]},'
        '{"type":"ECOSYSTEM","events":[{"introduced":"1.5"},{"fixed":"2.5"}]}]}'
    )
    assert evaluate("1.0", [overlapping], PYPI) == Verdict(True, "2.5")  # 2.0 is in the second range
    old_fix = ecosystem_range('{"introduced":"0"}', '{"fixed":"1.0"}', '{"introduced":"2.0"}')
    assert evaluate("2.1", [old_fix], PYPI) == Verdict(True)  # 1.0 is below: no fix to offer


def test_several_entries_are_one_verdict() -> None:
    first = ecosystem_range('{"introduced":"0"}', '{"fixed":"1.3"}')
    second = ecosystem_range('{"introduced":"1.1"}', '{"fixed":"1.4"}')
    third = ecosystem_range('{"introduced":"2.0"}', '{"fixed":"2.1"}')
    assert evaluate("1.2", [first, second, third], PYPI) == Verdict(True, "1.4")
    assert evaluate("1.0", [first, second, third], PYPI) == Verdict(True, "1.4")  # 1.3 is in `second`
    assert evaluate("2.0", [first, second, third], PYPI) == Verdict(True, "2.1")
    assert evaluate("1.5", [first, second, third], PYPI) == Verdict(False)
    assert affected("1.0", first, PYPI) == (True, "1.3")  # one entry alone knows only its own fix


def test_versions_list_matches_the_exact_string() -> None:
    e = entry('{"versions":["4.7.0","4.7.1"]}')
    assert evaluate("4.7.1", [e], PYPI) == Verdict(True)
    assert evaluate("4.7.2", [e], PYPI) == Verdict(False)


def test_a_version_the_scheme_rejects_still_matches_a_versions_list() -> None:
    e = entry('{"versions":["1.0","1.1"],"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}')
    verdict = evaluate("1.0", [e], NPM)  # not SemVer: npm's own ordering refuses it
    assert verdict.affected
    assert verdict.fixed == ""
    assert len(verdict.notes) == 1
    assert verdict.notes[0].startswith("ranges not evaluated: invalid semver version '1.0'")


def test_a_malformed_installed_version_raises() -> None:
    e = ecosystem_range('{"introduced":"0"}', '{"fixed":"1.0.0"}')
    with pytest.raises(InvalidVersion, match=r"not MAJOR\.MINOR\.PATCH"):
        evaluate("not a version", [e], NPM)
    with pytest.raises(InvalidVersion):
        affected("not a version", e, NPM)


def test_a_legacy_pypi_version_is_ordered_below_every_pep_440_one() -> None:
    # packaging 21.3's LegacyVersion, as OSV orders PyPI: "2004d" sorts before "0", so it is affected
    e = ecosystem_range('{"introduced":"0"}', '{"fixed":"1.0"}')
    verdict = evaluate("2004d", [e], PYPI)
    assert (verdict.affected, verdict.fixed, verdict.notes) == (True, "1.0", ())
