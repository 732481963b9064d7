"""Debian version ordering against dpkg's own test cases and real security versions."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from services.common.errors import VulnDBError
from services.vulndb.versions import InvalidVersion, compare_versions, dpkg

# (a, b, expected sign). From dpkg lib/dpkg/t/t-version.c (test_version_compare and the
# equalities of test_version_parse), Debian Policy 5.6.12, and real bookworm versions.
CASES = [
    # t-version.c: compare
    ("0:1-1", "0:2-1", -1),
    ("0:1-1", "0:1-2", -1),
    ("0:0-0", "0:0-0", 0),
    ("0:0-00", "0:00-0", 0),
    ("1:2-3", "1:2-3", 0),
    ("0:0-0", "1:0-0", -1),
    ("0:0a-0", "0:0b-0", -1),  # t-version.c uses "a"/"b"; parsed versions must start with a digit
    ("0:0-a", "0:0-b", -1),
    # t-version.c: parse equalities
    ("0", "0:0", 0),
    ("0:0-0", "0-0", 0),
    ("0:0.0-0.0", "0.0-0.0", 0),
    ("1:0", "1:0", 0),
    ("5:1", "5:1", 0),
    ("0:0-0-0", "0-0-0", 0),
    ("0:0:0-0", "0:0:0-0", 0),
    ("0:0-0:0-0", "0:0-0:0-0", 0),
    ("0:09azAZ.-+~:-0", "0:09azAZ.-+~:-0", 0),
    ("0:0-azAZ09.+~", "0:0-azAZ09.+~", 0),
    ("  \t0:0-1", "0:0-1", 0),
    ("0:0-1\t  ", "0:0-1", 0),
    # tilde sorts before everything, even the end of the string
    ("1.0~rc1", "1.0", -1),
    ("1.0~~", "1.0~~a", -1),
    ("1.0~~a", "1.0~", -1),
    ("1.0~", "1.0", -1),
    ("1.0", "1.0a", -1),
    ("1.0a", "1.0+", -1),  # letters before non-letters
    ("1.0+", "1.0.", -1),
    ("1.0", "1.0.0", -1),
    ("1.0-1", "1.0-1.1", -1),
    ("1.2", "1.10", -1),  # digit runs numerically
    ("1.002", "1.2", 0),
    ("2:1.0", "1:9.9", 1),
    ("1:0.1", "99.9", 1),
    ("1.0-1", "1.0+dfsg-1", -1),
    ("1.0+b1", "1.0", 1),
    # Debian security and stable updates
    ("7.88.1-10+deb12u5", "7.88.1-10+deb12u6", -1),
    ("7.88.1-10+deb12u6", "7.88.1-10+deb12u14", -1),
    ("3.0.11-1~deb12u2", "3.0.11-1", -1),
    ("3.0.15-1~deb12u1", "3.0.14-1~deb12u2", 1),
    ("17.0.15+6-1~deb12u1", "17.0.15+6-1", -1),
    ("2.36-9+deb12u7", "2.36-9+deb12u10", -1),
    ("1:9.18.24-1", "1:9.18.28-1~deb12u2", -1),
    ("6.1.112-1", "6.1.119-1", -1),
    ("5.2.15-2+b2", "5.2.15-2", 1),
    ("2.9.14+dfsg-1.3~deb12u1", "2.9.14+dfsg-1.3", -1),
    ("252.30-1~deb12u2", "252.33-1~deb12u1", -1),
]

INVALID = [
    "",
    "  ",
    "0:",
    "0:0 0-1",
    "-1:0-1",
    "999999999999999999999999:0-1",
    "a:0-0",
    "A:0-0",
    "-0",
    "0:-0",
    "1.0-",  # dpkg >= 1.17: "revision number is empty"
]

# t-version.c's other "invalid" versions are only warnings to dpkg: ``dpkg --compare-versions``
# orders them (tests/vulndb/versions/test_reference_tools.py checks against it), and so does Assay.
WARNED = [
    "0:abc3-0",
    "0:0-0:0",
    *(f"0:0{c}-0" for c in "!#@$%&/|\\<>()[]{};,_=*^'"),
    *(f"0:0-{c}" for c in "!#@$%&/|\\<>()[]{}:;,_=*^'"),
]


@pytest.mark.parametrize(("a", "b", "expected"), CASES)
def test_compare(a: str, b: str, expected: int) -> None:
    assert dpkg.compare(a, b) == expected
    assert dpkg.compare(b, a) == -expected


@pytest.mark.parametrize("version", INVALID)
def test_invalid(version: str) -> None:
    with pytest.raises(InvalidVersion, match="invalid dpkg version"):
        dpkg.compare(version, "1.0")


@pytest.mark.parametrize("version", WARNED)
def test_what_dpkg_only_warns_about_is_ordered(version: str) -> None:
    assert dpkg.warning(version)
    assert dpkg.compare(version, version) == 0
    assert dpkg.compare(version, "0:0-0") == -dpkg.compare("0:0-0", version)
    assert dpkg.warning("1:2.3-4+deb12u1") == ""


def test_parse_splits_epoch_upstream_revision() -> None:
    assert dpkg.parse("2:1.0-0-1") == dpkg.DpkgVersion(2, "1.0-0", "1")
    assert dpkg.parse("0:0:0-0") == dpkg.DpkgVersion(0, "0:0", "0")
    assert dpkg.parse("1.0") == dpkg.DpkgVersion(0, "1.0", "")


def test_dispatch_by_ecosystem() -> None:
    assert compare_versions("Debian:12", "7.88.1-10+deb12u5", "7.88.1-10+deb12u6") == -1
    assert compare_versions("Ubuntu:22.04:LTS", "1.0~rc1", "1.0") == -1
    with pytest.raises(VulnDBError, match="no version ordering"):
        compare_versions("NoSuchEcosystem", "1", "2")


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg is not installed here")
def test_table_agrees_with_installed_dpkg() -> None:
    """The table above is what the real dpkg says (kept honest where dpkg exists)."""
    ops = {-1: "lt", 0: "eq", 1: "gt"}
    for a, b, expected in CASES:
        done = subprocess.run(["dpkg", "--compare-versions", a, ops[expected], b], capture_output=True)
        assert done.returncode == 0, (a, ops[expected], b, done.stderr)
