"""Alpine package version ordering, as apk-tools (``src/version.c``, 2.14/3.x) does it.

A version is ``digit{.digit}...{letter}{_suffix{number}}...{~hash}{-r#}``. Versions are
split into tokens and compared token by token:

* the first number and later dot-separated numbers compare numerically, except that a
  later number with a leading zero on either side compares as a string (Gentoo rule);
* a single lower-case letter compares by character;
* suffixes ``_alpha < _beta < _pre < _rc`` sort before the release, ``_cvs < _svn <
  _git < _hg < _p`` after it; a suffix's number compares numerically;
* ``~hash`` compares as a string, ``-rN`` numerically.

When the token kinds differ (one version ran out, or has a suffix where the other has a
revision) the shorter one is greater only if the other continues with a pre-release
suffix. apk also orders malformed versions (the rest compares by token kind), and so
does ``compare``, never raising: a string that does not even start with a digit (``.5``,
``abc``, ``""``) is one INVALID token, which sorts below every version that starts with a
digit and equal to any other such string, as ``apk version -t`` answers.
``is_valid`` answers apk's own validation.
"""

from __future__ import annotations

from enum import IntEnum
from functools import lru_cache
from typing import NamedTuple

from services.vulndb.versions.base import sign


class _Tok(IntEnum):
    INITIAL_DIGIT = 0
    DIGIT = 1
    LETTER = 2
    SUFFIX = 3
    SUFFIX_NO = 4
    COMMIT_HASH = 5
    REVISION_NO = 6
    END = 7
    INVALID = 8


_SUFFIX_NONE = 4  # the rank a release without suffix would have
_SUFFIXES = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "cvs": 5, "svn": 6, "git": 7, "hg": 8, "p": 9}
_HEX = frozenset("0123456789abcdefABCDEF")


class _Token(NamedTuple):
    kind: _Tok
    text: str = ""  # the raw characters (for string comparisons)
    value: int = 0  # the number, or the suffix rank


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _span(s: str, i: int, ok: frozenset[str] | None = None) -> int:
    """End index of the run starting at ``i`` of digits (or of characters in ``ok``)."""
    n = len(s)
    while i < n and (_is_digit(s[i]) if ok is None else s[i] in ok):
        i += 1
    return i


def _is_suffix_char(c: str) -> bool:
    return "a" <= c <= "z"


@lru_cache(maxsize=65536)
def _tokens(version: str) -> tuple[_Token, ...]:
    """Tokens up to and including the terminating END or INVALID token."""
    out: list[_Token] = []
    end = _span(version, 0)
    if end == 0:
        return (_Token(_Tok.INVALID),)
    out.append(_Token(_Tok.INITIAL_DIGIT, version[:end], int(version[:end])))
    prev, i, n = _Tok.INITIAL_DIGIT, end, len(version)
    while True:
        if i >= n:
            out.append(_Token(_Tok.END))
            return tuple(out)
        c = version[i]
        tok: _Token | None = None
        if "a" <= c <= "z":
            if prev <= _Tok.DIGIT:
                tok, i = _Token(_Tok.LETTER, c, ord(c)), i + 1
        elif c == "." or _is_digit(c):
            start = i + 1 if c == "." else i
            if c == "." and prev > _Tok.DIGIT:
                pass
            elif prev in (_Tok.INITIAL_DIGIT, _Tok.DIGIT, _Tok.SUFFIX):
                kind = _Tok.SUFFIX_NO if prev == _Tok.SUFFIX else _Tok.DIGIT
                end = _span(version, start)
                if end > start:
                    tok, i = _Token(kind, version[start:end], int(version[start:end])), end
        elif c == "_":
            if prev <= _Tok.SUFFIX_NO:
                end = i + 1
                while end < n and _is_suffix_char(version[end]):
                    end += 1
                rank = _SUFFIXES.get(version[i + 1 : end])
                if rank is not None:
                    tok, i = _Token(_Tok.SUFFIX, version[i + 1 : end], rank), end
        elif c == "~":
            if prev < _Tok.COMMIT_HASH:
                end = _span(version, i + 1, _HEX)
                if end > i + 1:
                    tok, i = _Token(_Tok.COMMIT_HASH, version[i + 1 : end]), end
        elif c == "-" and prev < _Tok.REVISION_NO and version.startswith("-r", i):
            end = _span(version, i + 2)
            if end > i + 2:
                tok, i = _Token(_Tok.REVISION_NO, version[i + 2 : end], int(version[i + 2 : end])), end
        if tok is None:
            out.append(_Token(_Tok.INVALID))
            return tuple(out)
        out.append(tok)
        prev = tok.kind


def is_valid(version: str) -> bool:
    """Whether apk itself accepts ``version`` (``apk_version_validate``)."""
    return _tokens(version)[-1].kind == _Tok.END


def _cmp_token(a: _Token, b: _Token) -> int:
    if a.kind == _Tok.DIGIT and (a.text.startswith("0") or b.text.startswith("0")):
        return _cmp_str(a.text, b.text)
    if a.kind in (_Tok.INITIAL_DIGIT, _Tok.DIGIT, _Tok.SUFFIX_NO, _Tok.REVISION_NO, _Tok.LETTER, _Tok.SUFFIX):
        return sign(a.value - b.value)
    return _cmp_str(a.text, b.text)


def _cmp_str(a: str, b: str) -> int:
    # apk compares raw bytes (memcmp, then length); versions are ASCII here.
    ab, bb = a.encode(), b.encode()
    return (ab > bb) - (ab < bb)


def compare(a: str, b: str) -> int:
    """Order two Alpine versions as ``apk_version_compare`` does: -1, 0 or 1. Never raises."""
    ta, tb = _tokens(a), _tokens(b)
    k = 0
    while ta[k].kind == tb[k].kind and ta[k].kind < _Tok.END:
        r = _cmp_token(ta[k], tb[k])
        if r:
            return r
        k += 1
    x, y = ta[k], tb[k]
    if x.kind == y.kind:
        return 0
    # Equal so far: the version that goes on is greater, unless it goes on with a pre-release.
    if x.kind == _Tok.SUFFIX and x.value < _SUFFIX_NONE:
        return -1
    if y.kind == _Tok.SUFFIX and y.value < _SUFFIX_NONE:
        return 1
    return -1 if x.kind > y.kind else 1
