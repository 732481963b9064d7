"""Go module version ordering, as ``golang.org/x/mod/semver`` does it.

Go versions are SemVer 2 with a leading ``v`` (OSV writes them without it; both are
accepted here). Go also accepts the shorthands ``v1`` and ``v1.2`` for ``v1.0.0`` and
``v1.2.0`` (without pre-release or build). Pseudo-versions
(``v0.0.0-20200101000000-abcdef123456``, ``v1.2.4-0.2019...``) are ordinary pre-releases
and sort by their timestamp; ``+incompatible`` is build metadata and is ignored.
See https://go.dev/ref/mod#versions.
"""

from __future__ import annotations

import re
from functools import lru_cache

from services.vulndb.versions import semver
from services.vulndb.versions.base import InvalidVersion

_SHORT = re.compile(r"^(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?$")


@lru_cache(maxsize=65536)
def canonical(version: str) -> str:
    """``MAJOR.MINOR.PATCH[-PRE][+BUILD]`` without the ``v``; raises ``InvalidVersion``."""
    text = version.strip()
    if text.startswith("v"):
        text = text[1:]
    m = _SHORT.match(text)
    if m:
        return f"{m.group(1)}.{m.group(2) or '0'}.0"
    try:
        semver.parse(text)
    except InvalidVersion:
        raise InvalidVersion("go", version, "not a Go module version (vMAJOR[.MINOR[.PATCH]]...)") from None
    return text


def compare(a: str, b: str) -> int:
    """Order two Go module versions: -1, 0 or 1."""
    return semver.compare(canonical(a), canonical(b))
