"""What the user accepts, as one value: ignore-file rules, VEX statements and ``--ignore-unfixed``.

Both modes apply it: ``assay scan`` reads it from ``--ignore-file``/``--vex``/``--ignore-unfixed``
(and ``./.assayignore``), the policy service from a ruleset's ``ignore_files``, ``vex`` and
``ignore_unfixed`` keys (``services/policy/catalog.py``). ``accept`` splits one image's advisory
matches into those kept and those suppressed, with the decision behind each, and names the
expired ignore entries that would still have matched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import msgspec

from schemas.records import VulnMatch
from services.policy.suppress import Decider, Decision, IgnoreRule, Suppressor, parse_ignore_file, partition
from services.policy.suppress_vex import Statement, VexFilter, parse_openvex

__all__ = ["Acceptance", "Accepted", "accept", "combined", "load_acceptance"]


class Acceptance(msgspec.Struct, frozen=True, kw_only=True):
    """What the user accepts: ignore-file rules, VEX statements, and whether unfixed ones count."""

    rules: list[IgnoreRule] = []
    statements: list[Statement] = []
    ignore_unfixed: bool = False
    problems: list[str] = []


def load_acceptance(
    ignore_files: Sequence[str | Path], vex_files: Sequence[str | Path], *, ignore_unfixed: bool
) -> Acceptance:
    """Read the ignore files and VEX documents; ``OSError`` if one cannot be read at all."""
    rules: list[IgnoreRule] = []
    statements: list[Statement] = []
    problems: list[str] = []
    for name in ignore_files:
        parsed = parse_ignore_file(str(name), Path(name).read_bytes())
        rules += parsed.rules
        problems += parsed.problems
    for name in vex_files:
        doc = parse_openvex(str(name), Path(name).read_bytes())
        statements += doc.statements
        problems += doc.problems
    return Acceptance(rules=rules, statements=statements, ignore_unfixed=ignore_unfixed, problems=problems)


class Accepted(msgspec.Struct, frozen=True, kw_only=True):
    """One image's matches after acceptance: kept, suppressed (with why) and expired entries' hits."""

    kept: list[VulnMatch]
    dropped: list[tuple[VulnMatch, Decision]]
    expired: list[tuple[IgnoreRule, int]]


def accept(
    acceptance: Acceptance, matches: Sequence[VulnMatch], *, digest: str, image_ref: str, today: dt.date
) -> Accepted:
    """Split ``matches``: an ignore entry first, then a VEX statement, then ``ignore_unfixed`` decides."""
    suppressor = Suppressor(acceptance.rules, today=today, ignore_unfixed=acceptance.ignore_unfixed)
    vex = VexFilter(acceptance.statements, image_digest=digest, image_ref=image_ref)
    deciders: list[Decider] = [suppressor.by_rule, vex.decide, suppressor.by_fix_state]
    kept, dropped = partition(matches, deciders)
    return Accepted(kept=kept, dropped=dropped, expired=suppressor.expired_hits(matches))


def combined(first: Acceptance, second: Acceptance) -> Acceptance:
    """Both acceptances at once (``first``'s rules and statements before ``second``'s)."""
    if not (second.rules or second.statements or second.ignore_unfixed or second.problems):
        return first
    return Acceptance(
        rules=[*first.rules, *second.rules],
        statements=[*first.statements, *second.statements],
        ignore_unfixed=first.ignore_unfixed or second.ignore_unfixed,
        problems=[*first.problems, *second.problems],
    )
