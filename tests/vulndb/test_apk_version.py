"""Alpine version ordering against apk-tools' test/version.data."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.vulndb.versions import apk, compare_versions

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
    assert len(VECTORS) == 729


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
    assert not apk.is_valid("")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # A string that does not start with a digit is one INVALID token (apk's token_first):
        # below every version that starts with one, equal to every other such string.
        (".5", "0.1", -1),  # leading dot
        ("abc", "1.0", -1),  # letters only
        ("-r1", "0", -1),
        ("_rc1", "1.0_rc1", -1),
        ("", "0", -1),
        ("abc", "abd", 0),
        (".5", "x", 0),
        # A letter after the numbers, then a revision (apk: {letter} before {-r#}).
        ("1.1.1w-r1", "1.1.1w-r2", -1),
        ("1.1.1w-r9", "1.1.1x-r0", -1),
        ("2.3.0b-r1", "2.3.0-r9", 1),
        ("1.0a-r0", "1.0a", 1),
        ("1.0a-r0", "1.0a_p1", -1),  # a post-release suffix beats the revision
        ("1.0a_rc1-r5", "1.0a-r0", -1),  # a pre-release suffix sorts below its release
    ],
)
def test_apk_orders_what_apk_version_t_orders(a: str, b: str, expected: int) -> None:
    assert apk.compare(a, b) == expected
    assert apk.compare(b, a) == -expected
    assert compare_versions("Alpine:v3.20", a, b) == expected
