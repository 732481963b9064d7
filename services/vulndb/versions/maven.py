"""Maven version ordering: ``ComparableVersion`` from ``maven-artifact`` (Maven 3.9 / 4 rules).

A version is cut into items at ``.`` and ``-`` and at every switch between digits and
letters; a ``-`` (and a digit-to-letter switch, and a qualifier after a ``.``) opens a
nested list. Items compare as Maven's do:

* numbers numerically (leading zeros ignored), above every qualifier and sub-list;
* qualifiers ``alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release
  < sp``, then any other word in alphabetical order, all case-insensitive; ``a``, ``b``
  and ``m`` directly followed by a digit mean alpha, beta and milestone;
* a word with a number (``rc1``, ``alpha-2``) is one item ordered by word, then number;
* trailing zeros and release qualifiers are dropped, and a missing item compares as
  "nothing", so ``1 == 1.0 == 1-0 == 1.ga`` while ``1-rc < 1 < 1-sp < 1-1``.

Every string is a Maven version (Maven never rejects one), so ``compare`` never raises.
See https://maven.apache.org/pom.html#version-order-specification.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_RELEASE = frozenset({"ga", "final", "release"})
_RELEASE_RANK = str(_QUALIFIERS.index(""))
_ONE_LETTER = {"a": "alpha", "b": "beta", "m": "milestone"}


class _Int(NamedTuple):
    value: int


class _Str(NamedTuple):
    value: str
    rank: str  # ComparableVersion's "comparable qualifier": compare these as strings


class _Comb(NamedTuple):
    word: _Str
    number: _Int


class _List(NamedTuple):
    items: tuple[_Item, ...]


_Item = _Int | _Str | _Comb | _List


def _word(value: str, followed_by_digit: bool) -> _Str:
    if followed_by_digit and len(value) == 1:
        value = _ONE_LETTER.get(value, value)
    if value == "cr":
        value = "rc"
    if value in _RELEASE:
        rank = _RELEASE_RANK
    elif value in _QUALIFIERS:
        rank = str(_QUALIFIERS.index(value))
    else:
        rank = f"{len(_QUALIFIERS)}-{value}"
    return _Str(value, rank)


def _combination(text: str) -> _Comb:
    cut = next((i for i, c in enumerate(text) if "0" <= c <= "9"), 0)
    return _Comb(_word(text[:cut], True), _Int(int(text[cut:])))


def _item(combination: bool, digits: bool, text: str) -> _Int | _Str | _Comb:
    if combination:
        return _combination(text.replace("-", ""))
    if digits:
        return _Int(int(text))
    return _word(text, False)


def _is_null(item: _Item) -> bool:
    if isinstance(item, _Int):
        return item.value == 0
    if isinstance(item, _Str):
        return item.value == ""
    if isinstance(item, _List):
        return not item.items
    return False


_Mutable = list["_Int | _Str | _Comb | _Mutable"]


def _normalize(items: _Mutable) -> None:
    """Drop null items that end a list or precede a qualifier, as ``ListItem.normalize`` does."""
    for i in range(len(items) - 1, -1, -1):
        item = items[i]
        if (item != []) if isinstance(item, list) else not _is_null(item):
            continue
        nxt = items[i + 1] if i + 1 < len(items) else None
        before_qualifier = isinstance(nxt, _Str) or (
            isinstance(nxt, list) and bool(nxt) and isinstance(nxt[0], _Comb | _Str)
        )
        if nxt is None or before_qualifier:
            del items[i]
    if len(items) == 1 and isinstance(items[0], list):
        only = items[0]
        items[:] = only


def _freeze(items: _Mutable) -> _List:
    return _List(tuple(_freeze(i) if isinstance(i, list) else i for i in items))


def _is_ascii_digit(c: str) -> bool:
    return "0" <= c <= "9"


@lru_cache(maxsize=65536)
def parse(version: str) -> _List:
    """The item tree of a Maven version (``ComparableVersion.parseVersion``)."""
    text = version.lower()
    root: _Mutable = []
    current = root
    stack = [root]

    def open_list() -> None:
        nonlocal current
        child: _Mutable = []
        current.append(child)
        current = child
        stack.append(child)

    digits = combination = False
    start, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == ".":
            current.append(_Int(0) if i == start else _item(combination, digits, text[start:i]))
            combination = False
            start = i + 1
        elif c == "-":
            if i == start:
                current.append(_Int(0))
            else:
                if not digits and i != n - 1 and _is_ascii_digit(text[i + 1]):
                    # "X-1" reads as "X1"
                    combination = True
                    i += 1
                    continue
                current.append(_item(combination, digits, text[start:i]))
            start = i + 1
            if current:
                open_list()
            combination = False
        elif _is_ascii_digit(c):
            if not digits and i > start:
                combination = True
                if current:
                    open_list()
            digits = True
        else:
            if digits and i > start:
                current.append(_item(combination, True, text[start:i]))
                start = i
                open_list()
                combination = False
            digits = False
        i += 1
    if n > start:
        # "1.0.0.X1" reads as "1.0.0-X1"
        if not digits and current:
            open_list()
        current.append(_item(combination, digits, text[start:]))
    while stack:
        _normalize(stack.pop())
    return _freeze(root)


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


def _cmp_str(a: str, b: str) -> int:
    return (a > b) - (a < b)


def _vs_nothing(item: _Item) -> int:
    """``item.compareTo(null)``: how an item compares with a missing one."""
    if isinstance(item, _Int):
        return 1 if item.value else 0
    if isinstance(item, _Str):
        return _cmp_str(item.rank, _RELEASE_RANK)
    if isinstance(item, _Comb):
        return _vs_nothing(item.word) or _vs_nothing(item.number)
    for sub in item.items:
        r = _vs_nothing(sub)
        if r:
            return r
    return 0


def _cmp(a: _Item, b: _Item) -> int:
    if isinstance(a, _Int):
        return _sign(a.value - b.value) if isinstance(b, _Int) else 1
    if isinstance(a, _List):
        return _cmp_list(a, b)
    if isinstance(b, _Int):
        return -1
    if isinstance(b, _List):
        return -_cmp_list(b, a)
    if isinstance(a, _Str):
        if isinstance(b, _Str):
            return _cmp_str(a.rank, b.rank)
        r = _cmp(a, b.word)
        if r:
            return r
        return -_vs_nothing(b.number) if _vs_nothing(a) == 0 else -1
    if isinstance(b, _Str):
        r = _cmp(a.word, b)
        if r:
            return r
        return _vs_nothing(a.number) if _vs_nothing(a.word) == 0 else 1
    return _cmp(a.word, b.word) or _cmp(a.number, b.number)


def _cmp_list(a: _List, b: _Item) -> int:
    if isinstance(b, _Int):
        return -1
    if isinstance(b, _Str | _Comb):
        r = _cmp(a.items[0], b) if a.items else -_vs_nothing(b)
        for sub in a.items[1:]:
            if r:
                break
            r = _vs_nothing(sub)
        return r
    la, lb = a.items, b.items
    for k in range(max(len(la), len(lb))):
        if k >= len(la):
            r = -_vs_nothing(lb[k])
        elif k >= len(lb):
            r = _vs_nothing(la[k])
        else:
            r = _cmp(la[k], lb[k])
        if r:
            return r
    return 0


def compare(a: str, b: str) -> int:
    """Order two Maven versions: -1, 0 or 1. Never raises: Maven orders any string."""
    if a == b:
        return 0
    return _sign(_cmp_list(parse(a.strip()), parse(b.strip())))
