"""Packagist (Composer) version ordering, as OSV evaluates Packagist ranges.

OSV compares Packagist versions like PHP's ``version_compare()``
(``ext/standard/versioning.c``), as osv.dev's ``PackagistVersion`` implements it: a
leading ``v`` is dropped, ``-``, ``_`` and ``+`` become ``.``, a ``.`` is put between a
digit and a non-digit (``4.3.2RC1`` is ``4.3.2.RC.1``), then the parts compare left to
right: numbers numerically, words by rank
``other < dev < alpha = a < beta = b < RC = rc < (number) < pl = p``. When one version
has more parts, a following number makes it greater and a following word compares with
a number's rank. Unlike PHP, a word must match a special form exactly (PHP matches its
prefix), which is osv.dev's documented difference. Every string orders, so ``compare``
never raises.
"""

from __future__ import annotations

import re
from functools import lru_cache

_SEPARATORS = re.compile(r"[-_+]")
_WORD_DIGIT = re.compile(r"([^\d.])(\d)")
_DIGIT_WORD = re.compile(r"(\d)([^\d.])")
_RANK = {"dev": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "RC": 3, "rc": 3, "#": 4, "pl": 5, "p": 5}
_NUMBER_RANK = 4


def _rank(part: str) -> int:
    return _RANK.get(part, -1)


@lru_cache(maxsize=65536)
def parse(version: str) -> tuple[str, ...]:
    """The canonical parts of a version (``"v4.3.2RC1"`` -> ``("4", "3", "2", "RC", "1")``)."""
    text = version.strip()
    if text.startswith("v"):
        text = text[1:]
    text = _SEPARATORS.sub(".", text)
    text = _WORD_DIGIT.sub(r"\1.\2", text)
    text = _DIGIT_WORD.sub(r"\1.\2", text)
    return tuple(text.split("."))


def _is_num(part: str) -> bool:
    return part.isascii() and part.isdigit()


def _cmp_part(x: str, y: str) -> int:
    xn, yn = _is_num(x), _is_num(y)
    if xn and yn:
        a, b = int(x), int(y)
    else:
        a = _NUMBER_RANK if xn else _rank(x)
        b = _NUMBER_RANK if yn else _rank(y)
    return (a > b) - (a < b)


def _cmp_parts(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    for x, y in zip(a, b, strict=False):
        r = _cmp_part(x, y)
        if r:
            return r
    if len(a) > len(b):
        rest = a[len(b) :]
        return 1 if _is_num(rest[0]) else _cmp_parts(rest, ("#",))
    if len(a) < len(b):
        rest = b[len(a) :]
        return -1 if _is_num(rest[0]) else _cmp_parts(("#",), rest)
    return 0


def compare(a: str, b: str) -> int:
    """Order two Packagist versions: -1, 0 or 1."""
    return _cmp_parts(parse(a), parse(b))
