"""Semantic Versioning 2.0.0 precedence (https://semver.org/#spec-item-11), for OSV ``SEMVER`` ranges.

OSV says SEMVER versions carry no leading ``v``; Go-derived data sometimes does, so one is
tolerated. Build metadata (``+...``) is ignored, as the spec requires.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from services.vulndb.versions.base import InvalidVersion

_RE = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


class SemVer(NamedTuple):
    """Major, minor, patch and the dot-separated pre-release identifiers (empty for a release)."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...]


@lru_cache(maxsize=65536)
def parse(version: str) -> SemVer:
    """Parse a SemVer 2 string; raises ``InvalidVersion`` when it is not one."""
    m = _RE.match(version.strip())
    if m is None:
        raise InvalidVersion("semver", version, "not MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]")
    pre = tuple(m.group("pre").split(".")) if m.group("pre") else ()
    for ident in pre:
        if ident.isdigit() and len(ident) > 1 and ident.startswith("0"):
            raise InvalidVersion("semver", version, "numeric pre-release identifier has a leading zero")
    return SemVer(int(m.group("major")), int(m.group("minor")), int(m.group("patch")), pre)


def _cmp_pre(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    if a == b:
        return 0
    if not a:  # a release ranks above any of its pre-releases
        return 1
    if not b:
        return -1
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        xn, yn = x.isdigit(), y.isdigit()
        if xn and yn:
            return -1 if int(x) < int(y) else 1
        if xn != yn:  # numeric identifiers rank below alphanumeric ones
            return -1 if xn else 1
        return -1 if x < y else 1
    return -1 if len(a) < len(b) else 1


def compare(a: str, b: str) -> int:
    """Order two SemVer 2 versions by precedence: -1, 0 or 1."""
    va, vb = parse(a), parse(b)
    if va[:3] != vb[:3]:
        return -1 if va[:3] < vb[:3] else 1
    return _cmp_pre(va.pre, vb.pre)
