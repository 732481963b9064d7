"""Version ordering per OSV ecosystem: one pure module per scheme, one registry.

``compare_versions("Debian:12", a, b)`` picks the scheme by the ecosystem's base name
(the part before the first ``:``, so ``"Red Hat:enterprise_linux:9::baseos"`` is
``"Red Hat"``). Adding an ecosystem means adding a module and a line to ``SCHEMES``; an
ecosystem without one is a ``VulnDBError`` (the caller asked for something Assay cannot
do), while a malformed version is an ``InvalidVersion`` (bad data).

| scheme | module | ecosystems |
|---|---|---|
| dpkg | ``dpkg`` | Debian, Ubuntu |
| apk | ``apk`` | Alpine, Wolfi, Chainguard, Alpaquita |
| rpm | ``rpm`` | Red Hat, AlmaLinux, Rocky Linux, Oracle Linux, Amazon Linux, openSUSE, SUSE, Mageia, |
| | | openEuler, Photon OS, Azure Linux |
| PEP 440 | ``pep440`` (``packaging``) | PyPI |
| SemVer 2 | ``semver`` | npm, crates.io, Hex, and every ``SEMVER`` range |
| Go | ``golang`` | Go |
| Maven | ``maven`` | Maven |
| RubyGems | ``rubygems`` | RubyGems |
| NuGet | ``nuget`` | NuGet |
| PHP | ``packagist`` | Packagist |
| Pub | ``pub`` | Pub (SemVer, but build metadata orders) |

Every scheme caches its parsed versions, and the registry caches whole comparisons
(``functools.lru_cache``): the matcher compares the same installed versions with the same
advisory events over and over (every image, every re-match).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from services.common.errors import VulnDBError
from services.vulndb.versions import (
    apk,
    dpkg,
    golang,
    maven,
    nuget,
    packagist,
    pep440,
    pub,
    rpm,
    rubygems,
    semver,
)
from services.vulndb.versions.base import Compare, InvalidVersion

__all__ = [
    "SCHEMES",
    "Compare",
    "InvalidVersion",
    "comparator",
    "compare_versions",
    "ecosystem_base",
    "semver_compare",
]

_PAIR_CACHE = 1 << 16  # ~10 MB per scheme when full; only schemes in use fill


def _cached(compare: Compare) -> Compare:
    """``compare`` with its results cached per (a, b) pair; errors are not cached."""
    return lru_cache(maxsize=_PAIR_CACHE)(compare)


_DPKG, _APK, _RPM = _cached(dpkg.compare), _cached(apk.compare), _cached(rpm.compare)
_SEMVER = _cached(semver.compare)

SCHEMES: Final[dict[str, Compare]] = {
    "Debian": _DPKG,
    "Ubuntu": _DPKG,
    "Alpine": _APK,
    "Wolfi": _APK,
    "Chainguard": _APK,
    "Alpaquita": _APK,
    "Red Hat": _RPM,
    "AlmaLinux": _RPM,
    "Rocky Linux": _RPM,
    "Oracle Linux": _RPM,
    "Amazon Linux": _RPM,
    "openSUSE": _RPM,
    "SUSE": _RPM,
    "Mageia": _RPM,
    "openEuler": _RPM,
    "Photon OS": _RPM,
    "Azure Linux": _RPM,
    "PyPI": _cached(pep440.compare),
    "npm": _SEMVER,
    "crates.io": _SEMVER,
    "Hex": _SEMVER,
    "Go": _cached(golang.compare),
    "Maven": _cached(maven.compare),
    "RubyGems": _cached(rubygems.compare),
    "NuGet": _cached(nuget.compare),
    "Packagist": _cached(packagist.compare),
    "Pub": _cached(pub.compare),
}

semver_compare: Final[Compare] = _SEMVER
"""SemVer 2 precedence: what OSV ``SEMVER`` ranges use whatever the ecosystem."""


def ecosystem_base(ecosystem: str) -> str:
    """The OSV ecosystem name without its release suffix: ``"Debian:12"`` -> ``"Debian"``."""
    return ecosystem.split(":", 1)[0].strip()


def comparator(ecosystem: str) -> Compare:
    """The comparison function for an OSV ecosystem; ``VulnDBError`` if Assay has none.

    The function is the scheme's module-level ``compare``: cheap to fetch and to call
    repeatedly, as parsed versions are cached inside the scheme.
    """
    try:
        return SCHEMES[ecosystem_base(ecosystem)]
    except KeyError:
        raise VulnDBError(f"no version ordering for ecosystem {ecosystem!r}") from None


def compare_versions(ecosystem: str, a: str, b: str) -> int:
    """Order ``a`` and ``b`` under the rules of the OSV ``ecosystem``: -1, 0 or 1.

    ``ecosystem`` is an OSV ecosystem name, with or without its release suffix
    (``"PyPI"``, ``"Debian:12"``, ``"Alpine:v3.20"``, ``"Ubuntu:22.04:LTS"``,
    ``"Red Hat:enterprise_linux:9::baseos"``, ``"Rocky Linux:9"``). Raises ``VulnDBError``
    for an ecosystem without an ordering and ``InvalidVersion`` (a ``ValueError``) for a
    version its scheme rejects, with the scheme, the version and the reason.
    """
    return comparator(ecosystem)(a, b)
