"""A static check that a regex cannot backtrack super-linearly (used by test_linear.py).

It walks the parse tree of Python's own regex parser and reports three shapes, the causes of
catastrophic backtracking:

* an unbounded quantifier (``*``, ``+``, ``{n,}``) or one above ``MAX_BOUND`` anywhere: every
  repeat must have a small upper bound, so the work done from one start position is bounded;
* a quantifier inside a quantifier, unless the outer one repeats at most ``MAX_OUTER`` times
  (``(?:-[0-9]{10,13}){3}`` is a fixed shape, ``(?:a{1,9}){1,99}`` is not);
* two variable-length repeats in sequence (possibly with optional items between them) that
  can consume the same character, unless the product of their longest matches is at most
  ``MAX_SPLIT``: the split between them is ambiguous, and a failing suffix tries every split.

The check is conservative (alternatives are not compared with each other: they are bounded by
the first rule) and deliberately simple: the rules file is data that must pass it.
"""

from __future__ import annotations

import re
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as P  # type: ignore[attr-defined]
from typing import Any

MAX_BOUND = 20_000  # the longest repeat a rule may have (a PEM body, a long JWT)
MAX_OUTER = 8  # a repeat of a repeat: at most this many outer iterations
MAX_SPLIT = 10_000  # two overlapping repeats in sequence: at most this many ways to split a run
_ALL = frozenset(range(256))


def _category(cat: Any) -> frozenset[int]:
    tests = {
        C.CATEGORY_DIGIT: lambda c: chr(c).isdigit() and c < 128,
        C.CATEGORY_NOT_DIGIT: lambda c: not (chr(c).isdigit() and c < 128),
        C.CATEGORY_SPACE: lambda c: chr(c) in " \t\n\r\f\v",
        C.CATEGORY_NOT_SPACE: lambda c: chr(c) not in " \t\n\r\f\v",
        C.CATEGORY_WORD: lambda c: (chr(c).isalnum() and c < 128) or c == 95,
        C.CATEGORY_NOT_WORD: lambda c: not ((chr(c).isalnum() and c < 128) or c == 95),
    }
    test = tests.get(cat)
    return frozenset(c for c in range(256) if test(c)) if test else _ALL


def _fold(chars: frozenset[int]) -> frozenset[int]:
    return chars | {ord(chr(c).swapcase()) for c in chars if chr(c).isalpha() and c < 128}


def chars_of(items: Any, ignorecase: bool) -> frozenset[int]:
    """Every byte a parsed (sub)pattern can consume."""
    out: set[int] = set()
    for op, arg in items:
        if op is C.LITERAL:
            out.add(arg)
        elif op is C.NOT_LITERAL:
            out |= _ALL - {arg}
        elif op is C.ANY:
            out |= _ALL
        elif op is C.IN:
            out |= _in_set(arg)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            out |= chars_of(arg[2], ignorecase)
        elif op is C.SUBPATTERN:
            out |= chars_of(arg[3], ignorecase or bool(arg[1] & re.IGNORECASE))
        elif op is C.BRANCH:
            for alt in arg[1]:
                out |= chars_of(alt, ignorecase)
        elif op is C.ATOMIC_GROUP:
            out |= chars_of(arg, ignorecase)
    return _fold(frozenset(out)) if ignorecase else frozenset(out)


def _in_set(arg: Any) -> frozenset[int]:
    chars: set[int] = set()
    negate = False
    for op, av in arg:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            chars.add(av)
        elif op is C.RANGE:
            chars |= set(range(av[0], av[1] + 1))
        elif op is C.CATEGORY:
            chars |= _category(av)
    return _ALL - chars if negate else frozenset(chars)


def _nullable(op: Any, arg: Any) -> bool:
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        return bool(arg[0] == 0)
    return op in (C.AT, C.ASSERT, C.ASSERT_NOT)


def max_len(items: Any) -> int:
    """The longest run a parsed (sub)pattern can consume (MAXREPEAT counts as huge)."""
    total = 0
    for op, arg in items:
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            total += min(int(arg[1]), 10**9) * max_len(arg[2])
        elif op is C.SUBPATTERN:
            total += max_len(arg[3])
        elif op is C.BRANCH:
            total += max((max_len(alt) for alt in arg[1]), default=0)
        elif op is C.ATOMIC_GROUP:
            total += max_len(arg)
        elif op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
            total += 1
    return total


def _variable(op: Any, arg: Any) -> bool:
    return op in (C.MAX_REPEAT, C.MIN_REPEAT) and arg[0] != arg[1] and arg[1] > 1


def problems(pattern: str) -> list[str]:
    """What in ``pattern`` could backtrack super-linearly (empty: nothing)."""
    tree = P.parse(pattern)
    ignorecase = bool(tree.state.flags & re.IGNORECASE)
    out: list[str] = []
    _walk(list(tree), ignorecase, 0, out)
    return out


def _walk(items: list[Any], ignorecase: bool, depth: int, out: list[str]) -> None:
    for i, (op, arg) in enumerate(items):
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, high, sub = arg
            if high is C.MAXREPEAT or high > MAX_BOUND:
                out.append(f"unbounded repeat {{{low},{'' if high is C.MAXREPEAT else high}}}")
            if high > MAX_OUTER and _has_repeat(list(sub)):
                out.append(f"a repeat inside a repeat of up to {high}")
            _walk(list(sub), ignorecase, depth + 1, out)
            if _variable(op, arg):
                _check_followers(items, i, ignorecase, out)
        elif op is C.SUBPATTERN:
            _walk(list(arg[3]), ignorecase or bool(arg[1] & re.IGNORECASE), depth, out)
        elif op is C.BRANCH:
            for alt in arg[1]:
                _walk(list(alt), ignorecase, depth, out)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            _walk(list(arg[1]), ignorecase, depth, out)
        elif op is C.ATOMIC_GROUP:
            _walk(list(arg), ignorecase, depth, out)


def _has_repeat(items: list[Any]) -> bool:
    for op, arg in items:
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and arg[1] > 1:
            return True
        if op is C.SUBPATTERN and _has_repeat(list(arg[3])):
            return True
        if op is C.BRANCH and any(_has_repeat(list(alt)) for alt in arg[1]):
            return True
    return False


def _check_followers(items: list[Any], i: int, ignorecase: bool, out: list[str]) -> None:
    """A variable repeat at ``items[i]``: the next variable repeats reachable through optional
    items must not share a character with it."""
    mine = chars_of([items[i]], ignorecase)
    longest = max_len([items[i]])
    for op, arg in items[i + 1 :]:
        shared = mine & chars_of([(op, arg)], ignorecase)
        if _variable(op, arg) and shared and longest * max_len([(op, arg)]) > MAX_SPLIT:
            out.append(f"adjacent repeats overlap on {sorted(shared)[:5]}")
            return
        if not _nullable(op, arg):
            return


__all__ = ["MAX_BOUND", "MAX_OUTER", "MAX_SPLIT", "max_len", "problems"]
