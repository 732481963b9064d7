"""Debian package version ordering, exactly as dpkg does it.

A version is ``[epoch:]upstream[-revision]``: the epoch runs up to the first colon, the
revision starts after the last hyphen. Parsing follows ``parseversion`` in dpkg's
``lib/dpkg/parsehelp.c``: what it rejects (an empty or non-numeric epoch, an empty
version or revision, spaces) is an ``InvalidVersion``; what it only warns about (a version
not starting with a digit, a character outside its alphabet) is ordered, as
``dpkg --compare-versions`` orders it. Comparison follows ``verrevcmp`` in
``lib/dpkg/version.c`` over the UTF-8 bytes: non-digit runs compare byte by byte with ``~``
before everything (even the end of the string), then letters, then other bytes; digit runs
compare numerically.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from services.vulndb.versions.base import InvalidVersion, sign

_UPSTREAM_OK = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-+~:")
_REVISION_OK = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+~")
_INT_MAX = 2**31 - 1  # dpkg stores the epoch in an int and rejects anything larger


class DpkgVersion(NamedTuple):
    """A parsed Debian version; an absent revision is the empty string, as in dpkg."""

    epoch: int
    upstream: str
    revision: str


def _invalid(version: str, reason: str) -> InvalidVersion:
    return InvalidVersion("dpkg", version, reason)


@lru_cache(maxsize=65536)
def parse(version: str) -> DpkgVersion:
    """Split and validate a Debian version; raises ``InvalidVersion`` where dpkg would complain."""
    text = version.strip(" \t\n\r\f\v")
    if not text:
        raise _invalid(version, "version string is empty")
    if any(c.isspace() for c in text):
        raise _invalid(version, "version string has embedded spaces")
    epoch = 0
    rest = text
    colon = text.find(":")
    if colon >= 0:
        epoch_text = text[:colon]
        if not epoch_text:
            raise _invalid(version, "epoch in version is empty")
        if not epoch_text.isascii() or not epoch_text.isdigit():
            raise _invalid(version, "epoch in version is not a number")
        epoch = int(epoch_text)
        if epoch > _INT_MAX:
            raise _invalid(version, "epoch in version is too big")
        rest = text[colon + 1 :]
        if not rest:
            raise _invalid(version, "nothing after colon in version number")
    hyphen = rest.rfind("-")
    upstream, revision = (rest[:hyphen], rest[hyphen + 1 :]) if hyphen >= 0 else (rest, "")
    if not upstream:
        raise _invalid(version, "version number is empty")
    if hyphen >= 0 and not revision:
        # dpkg >= 1.17 rejects this; older t-version.c still accepted "0:0-".
        raise _invalid(version, "revision number is empty")
    return DpkgVersion(epoch, upstream, revision)


def warning(version: str) -> str:
    """What dpkg warns about in a version it still orders ("" when nothing): a first character
    that is not a digit, or a character outside the version or revision alphabet."""
    parsed = parse(version)
    if not _is_digit(parsed.upstream[0]):
        return "version number does not start with digit"
    if any(c not in _UPSTREAM_OK for c in parsed.upstream):
        return "invalid character in version number"
    if any(c not in _REVISION_OK for c in parsed.revision):
        return "invalid character in revision number"
    return ""


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _bytes(text: str) -> str:
    # dpkg compares bytes: one character per UTF-8 byte, so a non-ASCII letter weighs as dpkg weighs it
    return text if text.isascii() else text.encode("utf-8", "surrogateescape").decode("latin-1")


def _order(c: str) -> int:
    """dpkg's weight of one non-digit character: ``~`` < end < letters < everything else."""
    if c == "~":
        return -1
    if c.isascii() and c.isalpha():
        return ord(c)
    return ord(c) + 256  # c is one byte (``_bytes``)


def _verrevcmp(a: str, b: str) -> int:
    a, b = _bytes(a), _bytes(b)
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        # Non-digit prefix, compared by weight; running off the end weighs 0.
        while (i < la and not _is_digit(a[i])) or (j < lb and not _is_digit(b[j])):
            ac = _order(a[i]) if i < la and not _is_digit(a[i]) else 0
            bc = _order(b[j]) if j < lb and not _is_digit(b[j]) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        # Digit run, compared numerically (leading zeros skipped, then longer wins).
        while i < la and a[i] == "0":
            i += 1
        while j < lb and b[j] == "0":
            j += 1
        first_diff = 0
        while i < la and _is_digit(a[i]) and j < lb and _is_digit(b[j]):
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < la and _is_digit(a[i]):
            return 1
        if j < lb and _is_digit(b[j]):
            return -1
        if first_diff:
            return first_diff
    return 0


def compare(a: str, b: str) -> int:
    """Order two Debian versions: -1, 0 or 1. Raises ``InvalidVersion`` for one dpkg rejects."""
    va, vb = parse(a), parse(b)
    if va.epoch != vb.epoch:
        return sign(va.epoch - vb.epoch)
    r = _verrevcmp(va.upstream, vb.upstream)
    if r:
        return sign(r)
    return sign(_verrevcmp(va.revision, vb.revision))
