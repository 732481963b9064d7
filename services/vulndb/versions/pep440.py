"""Python package version ordering (PEP 440), for the PyPI ecosystem, via ``packaging``.

``packaging.version.Version`` is PyPA's reference implementation of PEP 440 (it is what
pip uses), so Assay does not re-implement it. A string that is not PEP 440 ("legacy"
versions such as ``2004d``, ``0.9-doduo`` or ``1.0-SNAPSHOT-foo``, which setuptools and pip
before 24.1 installed) is ordered as ``packaging`` 21.3's ``LegacyVersion`` ordered it, the
rule OSV's PyPI verdicts use: below every PEP 440 version (an epoch of -1), and among
themselves by setuptools' old ``parse_version`` key:

* the lower-cased string is cut into runs of digits, runs of letters, ``.`` and ``-``;
* ``pre``, ``preview`` and ``rc`` read as ``c``, ``dev`` as ``@``, ``-`` as ``final-``;
  dots are dropped;
* a number is zero-padded to eight digits, a word is prefixed with ``*``, and ``*final``
  ends the key;
* before a word, trailing ``00000000`` parts are dropped, and before a word that sorts
  below ``*final`` (a pre-release), trailing ``*final-`` parts too;
* the keys compare as tuples of strings.

So ``compare`` never raises; ``parse`` still refuses a legacy string (``InvalidVersion``
with ``packaging``'s reason) for callers that need a real PEP 440 version.
"""

from __future__ import annotations

import re
from functools import lru_cache

from packaging.version import InvalidVersion as _PackagingInvalid
from packaging.version import Version

from services.vulndb.versions.base import InvalidVersion

_LEGACY_PART = re.compile(r"(\d+|[a-z]+|\.|-)")
_LEGACY_WORDS = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}


@lru_cache(maxsize=65536)
def parse(version: str) -> Version:
    """Parse a PEP 440 version; raises ``InvalidVersion`` for a non-PEP 440 string."""
    try:
        return Version(version)
    except _PackagingInvalid as exc:
        raise InvalidVersion("pep440", version, f"not a PEP 440 version ({exc})") from None


def _legacy_parts(version: str) -> list[str]:
    out = []
    for raw in _LEGACY_PART.split(version):
        part = _LEGACY_WORDS.get(raw, raw)
        if part and part != ".":
            out.append(part.zfill(8) if part[:1] in "0123456789" else "*" + part)
    out.append("*final")
    return out


@lru_cache(maxsize=65536)
def legacy_key(version: str) -> tuple[str, ...]:
    """``packaging`` 21.3's ``LegacyVersion`` key of ``version`` (without its -1 epoch)."""
    parts: list[str] = []
    for part in _legacy_parts(version.lower()):
        if part.startswith("*"):
            if part < "*final":
                while parts and parts[-1] == "*final-":
                    parts.pop()
            while parts and parts[-1] == "00000000":
                parts.pop()
        parts.append(part)
    return tuple(parts)


def _parse_or_legacy(version: str) -> Version | tuple[str, ...]:
    try:
        return parse(version)
    except InvalidVersion:
        return legacy_key(version)


def compare(a: str, b: str) -> int:
    """Order two PyPI versions: -1, 0 or 1 (``1.0 == 1.0.0``; a legacy string sorts first)."""
    va, vb = _parse_or_legacy(a), _parse_or_legacy(b)
    if isinstance(va, Version) and isinstance(vb, Version):
        return -1 if va < vb else (1 if va > vb else 0)
    if isinstance(va, tuple) and isinstance(vb, tuple):
        return -1 if va < vb else (1 if va > vb else 0)
    return -1 if isinstance(va, tuple) else 1
