"""Version ordering per OSV ecosystem: one pure module per scheme, one registry.

``compare_versions("Debian:12", a, b)`` picks the scheme by the ecosystem's base name
(the part before the first ``:``). Adding an ecosystem means adding a module and a line
to ``SCHEMES``; an ecosystem without one is a ``VulnDBError`` (the caller asked for
something Assay cannot do), while a malformed version is an ``InvalidVersion`` (bad data).
"""

from __future__ import annotations

from typing import Final

from services.common.errors import VulnDBError
from services.vulndb.versions import apk, dpkg, semver
from services.vulndb.versions.base import Compare, InvalidVersion

__all__ = ["SCHEMES", "Compare", "InvalidVersion", "comparator", "compare_versions", "ecosystem_base"]

SCHEMES: Final[dict[str, Compare]] = {
    "Debian": dpkg.compare,
    "Ubuntu": dpkg.compare,
    "Alpine": apk.compare,
    # Go module versions are SemVer with a leading "v" (OSV strips it).
    "Go": semver.compare,
}


def ecosystem_base(ecosystem: str) -> str:
    """The OSV ecosystem name without its release suffix: ``"Debian:12"`` -> ``"Debian"``."""
    return ecosystem.split(":", 1)[0].strip()


def comparator(ecosystem: str) -> Compare:
    """The comparison function for an OSV ecosystem; ``VulnDBError`` if Assay has none."""
    try:
        return SCHEMES[ecosystem_base(ecosystem)]
    except KeyError:
        raise VulnDBError(f"no version ordering for ecosystem {ecosystem!r}") from None


def compare_versions(ecosystem: str, a: str, b: str) -> int:
    """Order ``a`` and ``b`` under ``ecosystem``'s rules: -1, 0 or 1.

    Raises ``VulnDBError`` for an ecosystem without an ordering and ``InvalidVersion`` for
    a version its scheme rejects.
    """
    return comparator(ecosystem)(a, b)
