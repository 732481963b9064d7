"""NuGet version ordering, as ``NuGet.Versioning.VersionComparer.Default`` does it.

A version is ``major[.minor[.patch[.revision]]][-prerelease][+metadata]``: SemVer 2 with
one to four numeric parts (missing parts are 0, so ``1.0 == 1.0.0.0``; leading zeros are
tolerated), a release above its pre-releases, pre-release labels compared one by one
(numeric labels numerically and below alphanumeric ones, alphanumeric labels
case-insensitively) and build metadata ignored. See
https://learn.microsoft.com/nuget/concepts/package-versioning.
"""

from __future__ import annotations

import re
from functools import lru_cache

from services.vulndb.versions.base import InvalidVersion

_RE = re.compile(
    r"^v?(?P<nums>[0-9]+(?:\.[0-9]+){0,3})"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)

Label = tuple[int, int, str]
Key = tuple[tuple[int, int, int, int], int, tuple[Label, ...]]


@lru_cache(maxsize=65536)
def key(version: str) -> Key:
    """A sort key for a NuGet version; raises ``InvalidVersion`` for a malformed one."""
    m = _RE.match(version.strip())
    if m is None:
        raise InvalidVersion("nuget", version, "not MAJOR[.MINOR[.PATCH[.REVISION]]][-PRERELEASE][+BUILD]")
    parts = [int(p) for p in m.group("nums").split(".")]
    nums = [*parts, 0, 0, 0][:4]
    pre = m.group("pre")
    if not pre:
        return ((nums[0], nums[1], nums[2], nums[3]), 1, ())
    labels = tuple((0, int(x), "") if x.isdigit() else (1, 0, x.upper()) for x in pre.split("."))
    return ((nums[0], nums[1], nums[2], nums[3]), 0, labels)


def compare(a: str, b: str) -> int:
    """Order two NuGet versions: -1, 0 or 1."""
    ka, kb = key(a), key(b)
    return (ka > kb) - (ka < kb)
