"""RPM package version ordering, as rpm does it (Red Hat, AlmaLinux, Rocky Linux, SUSE, Fedora...).

A version is ``[epoch:]version[-release]``: the epoch runs up to the first colon (absent
means 0), the release starts after the last hyphen. Epochs compare numerically, then
version and release each with ``rpmvercmp`` (``rpmio/rpmvercmp.c``):

* the strings are cut into runs of ASCII digits and runs of ASCII letters; anything else
  only separates runs (so ``2.0 == 2_0``, and non-ASCII characters are ignored);
* ``~`` sorts before everything, even the end of the string (``1.0~rc1 < 1.0``);
* ``^`` sorts after the end of the string but before any other run
  (``1.0 < 1.0^git1 < 1.0.1``);
* a digit run beats a letter run; digit runs compare numerically, letter runs by bytes;
* when one string runs out first, the other is greater.

A version without a release compares below the same version with one, as rpmvercmp
treats the missing string as empty.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from services.vulndb.versions.base import InvalidVersion


class RpmVersion(NamedTuple):
    """A parsed ``epoch:version-release``; an absent release is the empty string."""

    epoch: int
    version: str
    release: str


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _is_alpha(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z"


def _is_alnum(c: str) -> bool:
    return _is_digit(c) or _is_alpha(c)


@lru_cache(maxsize=65536)
def parse(version: str) -> RpmVersion:
    """Split ``[epoch:]version[-release]``; raises ``InvalidVersion`` for an empty version or a bad epoch."""
    text = version.strip()
    if not text:
        raise InvalidVersion("rpm", version, "version string is empty")
    epoch = 0
    colon = text.find(":")
    if colon >= 0:
        epoch_text, text = text[:colon], text[colon + 1 :]
        if not epoch_text.isascii() or not epoch_text.isdigit():
            raise InvalidVersion("rpm", version, "epoch is not a number")
        epoch = int(epoch_text)
    hyphen = text.rfind("-")
    ver, rel = (text[:hyphen], text[hyphen + 1 :]) if hyphen >= 0 else (text, "")
    if not ver:
        raise InvalidVersion("rpm", version, "version part is empty")
    return RpmVersion(epoch, ver, rel)


@lru_cache(maxsize=65536)
def rpmvercmp(a: str, b: str) -> int:
    """rpm's segment comparison of two version (or release) strings: -1, 0 or 1."""
    if a == b:
        return 0
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        while i < la and not _is_alnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < lb and not _is_alnum(b[j]) and b[j] not in "~^":
            j += 1
        ca = a[i] if i < la else ""
        cb = b[j] if j < lb else ""
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i, j = i + 1, j + 1
            continue
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i, j = i + 1, j + 1
            continue
        if not (ca and cb):
            break
        si, sj = i, j
        if _is_digit(ca):
            while i < la and _is_digit(a[i]):
                i += 1
            while j < lb and _is_digit(b[j]):
                j += 1
            numeric = True
        else:
            while i < la and _is_alpha(a[i]):
                i += 1
            while j < lb and _is_alpha(b[j]):
                j += 1
            numeric = False
        if sj == j:
            # b has a run of the other kind here: a number beats letters.
            return 1 if numeric else -1
        sa, sb = a[si:i], b[sj:j]
        if numeric:
            sa, sb = sa.lstrip("0"), sb.lstrip("0")
            if len(sa) != len(sb):
                return 1 if len(sa) > len(sb) else -1
        if sa != sb:
            return 1 if sa > sb else -1
    at_end_a, at_end_b = i >= la, j >= lb
    if at_end_a and at_end_b:
        return 0
    return -1 if at_end_a else 1


def compare(a: str, b: str) -> int:
    """Order two RPM ``[epoch:]version[-release]`` strings: -1, 0 or 1."""
    va, vb = parse(a), parse(b)
    if va.epoch != vb.epoch:
        return -1 if va.epoch < vb.epoch else 1
    return rpmvercmp(va.version, vb.version) or rpmvercmp(va.release, vb.release)
