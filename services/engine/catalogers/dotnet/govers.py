"""Version order as hashicorp's go-version has it, which syft uses to pick a PE file's version.

A version is ``v?N(.N)*`` with an optional pre-release (``-rc.1``, or letters right after the
numbers: ``1.0beta``) and optional ``+metadata``; numbers compare numerically with missing
segments as zero (``3.0.0.0`` equals ``3.0``), a pre-release sorts before its release, and
metadata is ignored. Anything else (``1, 0, 0, 0``, a commit hash) is not a version.
"""

from __future__ import annotations

import re

_VERSION = re.compile(
    r"v?([0-9]+(?:\.[0-9]+)*?)"
    r"(?:-([0-9]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)|(?:-?([A-Za-z\-~]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)))?"
    r"(?:\+([0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*))?"
)
_INT64_MAX = 2**63 - 1  # go-version parses segments as int64: larger ones are not versions


def _parse(text: str) -> tuple[list[int], str] | None:
    match = _VERSION.fullmatch(text)
    if match is None:
        return None
    segments = [int(s) for s in match.group(1).split(".")]
    if any(s > _INT64_MAX for s in segments):
        return None
    return segments, match.group(2) or match.group(3) or ""


def _order(less: bool, greater: bool) -> int:
    return int(greater) - int(less)


def _compare_prerelease(a: str, b: str) -> int:
    if a == b:
        return 0
    if not a or not b:
        return 1 if not a else -1  # a release is greater than any of its pre-releases
    left, right = a.split("."), b.split(".")
    for x, y in zip(left, right, strict=False):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return _order(int(x) < int(y), int(x) > int(y))
        if x.isdigit() != y.isdigit():
            return -1 if x.isdigit() else 1  # numeric identifiers sort first
        return _order(x < y, x > y)
    return _order(len(left) < len(right), len(left) > len(right))


def compare_go_versions(a: str, b: str) -> int | None:
    """-1, 0 or 1 as ``a`` sorts before, with or after ``b``; None if either is not a version."""
    left, right = _parse(a), _parse(b)
    if left is None or right is None:
        return None
    width = max(len(left[0]), len(right[0]))
    x, y = left[0] + [0] * (width - len(left[0])), right[0] + [0] * (width - len(right[0]))
    order = _order(x < y, x > y)
    return order or _compare_prerelease(left[1], right[1])


__all__ = ["compare_go_versions"]
