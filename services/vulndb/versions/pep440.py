"""Python package version ordering (PEP 440), for the PyPI ecosystem, via ``packaging``.

``packaging.version.Version`` is PyPA's reference implementation of PEP 440 (it is what
pip uses), so Assay does not re-implement it. Versions that are not PEP 440 ("legacy"
versions such as ``2004d`` or ``1.0-SNAPSHOT-foo``, which setuptools once accepted and
``packaging`` >= 22 rejects) raise ``InvalidVersion`` with ``packaging``'s reason: pip
no longer installs such releases, and guessing an order for them (as the removed
``LegacyVersion`` did, below every valid version) would report wrong matches.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.version import InvalidVersion as _PackagingInvalid
from packaging.version import Version

from services.vulndb.versions.base import InvalidVersion


@lru_cache(maxsize=65536)
def parse(version: str) -> Version:
    """Parse a PEP 440 version; raises ``InvalidVersion`` for a non-PEP 440 string."""
    try:
        return Version(version)
    except _PackagingInvalid as exc:
        raise InvalidVersion("pep440", version, f"not a PEP 440 version ({exc})") from None


def compare(a: str, b: str) -> int:
    """Order two PEP 440 versions: -1, 0 or 1 (``1.0 == 1.0.0``, local labels order too)."""
    va, vb = parse(a), parse(b)
    return -1 if va < vb else (1 if va > vb else 0)
