"""SemVer 2 precedence, for OSV SEMVER ranges."""

from __future__ import annotations

import pytest

from services.vulndb.versions import InvalidVersion, semver

# semver.org item 11, in increasing precedence.
CHAIN = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "2.0.0",
    "2.1.0",
    "2.1.1",
    "10.0.0",
]


@pytest.mark.parametrize("i", range(len(CHAIN) - 1))
def test_precedence_chain(i: int) -> None:
    assert semver.compare(CHAIN[i], CHAIN[i + 1]) == -1
    assert semver.compare(CHAIN[i + 1], CHAIN[i]) == 1


def test_build_metadata_is_ignored_and_v_tolerated() -> None:
    assert semver.compare("1.0.0+build.1", "1.0.0+build.2") == 0
    assert semver.compare("v1.2.3", "1.2.3") == 0


@pytest.mark.parametrize("version", ["1", "1.2", "01.2.3", "1.2.3-01", "1.2.3-", "x.y.z"])
def test_invalid(version: str) -> None:
    with pytest.raises(InvalidVersion):
        semver.compare(version, "1.0.0")
