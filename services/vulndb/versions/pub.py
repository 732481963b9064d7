"""Dart Pub version ordering, as ``pub_semver``'s ``Version.compareTo`` does it.

Pub versions are SemVer 2 (``MAJOR.MINOR.PATCH[-PRE][+BUILD]``) ordered by SemVer
precedence, except that build metadata is not ignored: a version with a build sorts
above the same version without one, and builds compare like pre-releases (numeric parts
numerically and below words). ``1.0.0 < 1.0.0+1 < 1.0.0+build``. See
https://github.com/dart-lang/pub_semver (``lib/src/version.dart``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from services.vulndb.versions.base import InvalidVersion

_RE = re.compile(
    r"^(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)

Part = tuple[int, int, str]  # (0, n, "") for a number, (1, 0, word) for a word: numbers sort first
Key = tuple[int, int, int, int, tuple[Part, ...], int, tuple[Part, ...]]


def _parts(text: str | None) -> tuple[Part, ...]:
    if not text:
        return ()
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in text.split("."))


@lru_cache(maxsize=65536)
def key(version: str) -> Key:
    """A sort key for a Pub version; raises ``InvalidVersion`` for a malformed one."""
    m = _RE.match(version.strip())
    if m is None:
        raise InvalidVersion("pub", version, "not MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]")
    pre, build = _parts(m.group("pre")), _parts(m.group("build"))
    # A release sorts above its pre-releases; a build sorts above no build.
    return (
        int(m.group("major")),
        int(m.group("minor")),
        int(m.group("patch")),
        0 if pre else 1,
        pre,
        1 if build else 0,
        build,
    )


def compare(a: str, b: str) -> int:
    """Order two Pub versions: -1, 0 or 1."""
    ka, kb = key(a), key(b)
    return (ka > kb) - (ka < kb)
