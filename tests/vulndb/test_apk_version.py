"""Alpine version ordering against apk-tools' test/version.data."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.vulndb import osv
from services.vulndb.ranges import in_range
from services.vulndb.versions import apk, comparator, compare_versions

_OPS = {"<": -1, "=": 0, ">": 1}


def _vectors() -> list[tuple[str, str, int]]:
    out = []
    for line in (Path(__file__).parent / "testdata" / "apk-version.data").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            a, op, b = line.split()
            out.append((a, b, _OPS[op]))
    return out


VECTORS = _vectors()


def test_vector_file_is_complete() -> None:
    assert len(VECTORS) == 733


@pytest.mark.parametrize(("a", "b", "expected"), VECTORS)
def test_apk_tools_vectors(a: str, b: str, expected: int) -> None:
    assert apk.compare(a, b) == expected
    assert apk.compare(b, a) == -expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("8.7.1-r0", "8.9.0-r0", -1),  # curl in Alpine v3.20
        ("3.3.2-r0", "3.3.2-r1", -1),  # openssl revision bump
        ("1.36.1-r29", "1.36.1-r30", -1),  # busybox revisions compare numerically
        ("1.2.5-r0", "1.2.5_git20240101-r0", -1),  # post-release suffix
        ("1.2.5_rc1-r0", "1.2.5-r0", -1),  # pre-release suffix
        ("1.2.5_alpha", "1.2.5_beta", -1),
        ("1.2.5_pre1", "1.2.5_rc1", -1),
        ("1.2.5_cvs", "1.2.5_svn", -1),
        ("1.2.5_hg", "1.2.5_p1", -1),
        ("7.36.0", "7.36.0-r0", -1),
        ("1.0~abc", "1.0~abd", -1),  # commit hash compares as a string
    ],
)
def test_alpine_cases(a: str, b: str, expected: int) -> None:
    assert compare_versions("Alpine:v3.20", a, b) == expected
    assert compare_versions("Alpine:v3.20", b, a) == -expected


def test_validation() -> None:
    assert apk.is_valid("1.2.3_rc1-r2")
    assert apk.is_valid("1.0_alpha_pre2")
    assert not apk.is_valid("1.0bc")
    assert not apk.is_valid("1.0-foo")
    assert apk.is_valid("6.6.2p1-r0")  # apk 2.x reads a number after the letter
    assert not apk.is_valid("1.0~ABC")  # commit hashes are lower-case hex
    assert apk.is_valid("1.0~abc-r1")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # Strings apk reads with an empty first number (apk 2.x get_token): a leading dot
        # is "0." and letters are "0" then a letter, so they still order.
        (".5", "0.5", 0),  # leading dot
        (".5", "0.1", 1),
        ("abc", "1.0", -1),  # letters only: 0 < 1
        ("abc", "abd", 0),  # both malformed after the same "0a"
        ("-r1", "0", 1),  # "0-r1"
        ("_rc1", "1.0_rc1", -1),
        ("", "0", 0),
        # Revisions that are not "-r<digits>" (published verdicts of apk version -t).
        ("1-r2", "1-r-1", 1),
        ("1", "1-ruff", -1),
        ("1-ruff2", "1-ruff1", 0),
        ("1-ruff2", "1--ruff1", -1),
        ("1-r0-ruff2", "1-r0-ruff1", 0),
        # A letter after the numbers, a number after the letter, then a revision.
        ("1.1.1w-r1", "1.1.1w-r2", -1),
        ("1.1.1w-r9", "1.1.1x-r0", -1),
        ("2.3.0b-r1", "2.3.0-r9", 1),
        ("1.0a-r0", "1.0a", 1),
        ("1.0a-r0", "1.0a_p1", -1),  # a post-release suffix beats the revision
        ("1.0a_rc1-r5", "1.0a-r0", -1),  # a pre-release suffix sorts below its release
        ("6.6.2p1-r0", "6.6.2p2-r0", -1),  # malformed secdb versions (Alpine v3.3-v3.11)
        ("6.6.2p1-r0", "6.6.2-r0", 1),
        ("0.8.21.r2", "0.8.21-r1", 1),  # ".r2" reads as ".0r2", a fourth number
        ("1.11-20-r0", "1.11-r1", 1),
        # Leading zeros are their own token: minus the count of zeros, then the rest.
        ("1.01", "1.1", -1),
        ("1.001", "1.01", -1),
        ("1.010", "1.02", 1),
        ("1.0", "1.00", 1),
        # Numbers do not overflow (apk 2.x's C int did; apk-tools' test data asserts this).
        ("1.0.0_pre20191002222144-r0", "1.0.0_pre20210530193627-r0", -1),
        ("1_git99999999999999999999", "1_git100000000000000000000", -1),
        # An unknown suffix after an equal prefix sorts below, like a pre-release.
        ("1.1_foo", "1.1", -1),
        # Suffix names match by prefix; the unread rest is malformed, which counts as going on.
        ("1.1_prerelease", "1.1_pre", 1),
    ],
)
def test_apk_orders_what_apk_version_t_orders(a: str, b: str, expected: int) -> None:
    assert apk.compare(a, b) == expected
    assert apk.compare(b, a) == -expected
    assert compare_versions("Alpine:v3.20", a, b) == expected


@pytest.mark.parametrize(
    ("installed", "fixed", "affected"),
    [
        ("1.1.1w-r1", "1.1.1x-r0", True),  # OpenSSL's letter releases
        ("1.1.1x-r0", "1.1.1x-r0", False),
        ("1.36.1_p2-r0", "1.36.1_p2-r1", True),
        ("1.36.1-r29", "1.36.1_p2-r1", True),  # a post-release patch level is above the release
        ("2.4_git20230101-r0", "2.4-r0", False),
        ("2.4_rc1-r3", "2.4-r0", True),  # a pre-release is below any revision of its release
        ("6.6.2-r0", "6.6.2p1-r0", True),  # a malformed secdb fix still orders as apk orders it
        ("6.6.2p2-r0", "6.6.2p1-r0", False),
    ],
)
def test_secdb_fixed_events_with_suffixed_versions(installed: str, fixed: str, affected: bool) -> None:
    events = (osv.Event(introduced="0"), osv.Event(fixed=fixed))
    assert in_range(installed, events, comparator("Alpine:v3.18")) is affected
