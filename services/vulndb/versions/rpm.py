"""RPM package version ordering, as rpm does it (Red Hat, AlmaLinux, Rocky Linux, SUSE, Fedora...).

A version is ``[epoch:]version[-release]``, split as rpm's own ``rpmverParse``
(``rpmio/rpmver.c``) splits it: an epoch only when the string starts with a run of
digits (possibly empty) followed by ``:`` (an empty one is ``0``), so ``x:1.0`` and
``1a:1.0`` are versions without an epoch, as rpm reads them; the release is what follows
the last hyphen after those digits. ``rpmverCmp`` then compares the epochs (absent is
``0``), the versions and the releases, each with ``rpmvercmp`` (``rpmio/rpmvercmp.c``);
a missing version or release sorts below a present one, even an empty one. ``rpmvercmp``:

* the strings are cut into runs of ASCII digits and runs of ASCII letters; anything else
  only separates runs (so ``2.0 == 2_0``, and non-ASCII characters are ignored);
* ``~`` sorts before everything, even the end of the string (``1.0~rc1 < 1.0``);
* ``^`` sorts after the end of the string but before any other run
  (``1.0 < 1.0^git1 < 1.0.1``);
* a digit run beats a letter run; digit runs compare numerically, letter runs by bytes;
* when one string runs out first, the other is greater.

Only the empty string is rejected (``rpmverParse`` gives no version for it); every
other string is ordered as rpm orders it (``rpm --eval '%{lua: print(rpm.vercmp(a, b))}'``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from services.vulndb.versions.base import InvalidVersion


class RpmVersion(NamedTuple):
    """A parsed ``epoch:version-release``; an absent epoch or release is None (rpm's NULL)."""

    epoch: str | None
    version: str
    release: str | None


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _is_alpha(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z"


def _is_alnum(c: str) -> bool:
    return _is_digit(c) or _is_alpha(c)


@lru_cache(maxsize=65536)
def parse(version: str) -> RpmVersion:
    """Split ``[epoch:]version[-release]`` as ``rpmverParse`` does; ``InvalidVersion`` only for ""."""
    if not version:
        raise InvalidVersion("rpm", version, "version string is empty")
    digits = 0
    while digits < len(version) and _is_digit(version[digits]):
        digits += 1
    hyphen = version.rfind("-", digits)
    epoch: str | None = None
    start = 0
    if version.startswith(":", digits):
        epoch, start = version[:digits] or "0", digits + 1
    if hyphen >= 0:
        return RpmVersion(epoch, version[start:hyphen], version[hyphen + 1 :])
    return RpmVersion(epoch, version[start:], None)


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


def _cmp_release(a: str | None, b: str | None) -> int:
    # rpmver.c compare_values: a missing release sorts below any present one, even "".
    if a is None or b is None:
        return (a is not None) - (b is not None)
    return rpmvercmp(a, b)


def compare(a: str, b: str) -> int:
    """Order two RPM ``[epoch:]version[-release]`` strings as ``rpmverCmp``: -1, 0 or 1."""
    va, vb = parse(a), parse(b)
    return (
        rpmvercmp(va.epoch or "0", vb.epoch or "0")
        or rpmvercmp(va.version, vb.version)
        or _cmp_release(va.release, vb.release)
    )
