"""The finding lifecycle rule, as a pure function: what an evaluation changes against what is stored.

Given the stored findings of one (digest, ruleset) and the findings an evaluation produced,
``diff`` decides each finding's lifecycle change:

* ``new``: absent before (or ``resolved`` before and present again);
* ``changed``: present with a different severity, fixed version, fix state, KEV mark or
  suppression (``MATERIAL``; other fields, e.g. the environment list, are updated silently);
* ``resolved``: present and not resolved before, absent now, and of a category the evaluation
  covers (a rematch covers CVE and Coverage findings only).

No I/O: ``services/policy/store.py`` reads the stored rows, calls this, and writes the result in
one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Final

import msgspec

from schemas.records import Finding
from schemas.vocabulary import LifecycleState

__all__ = ["MATERIAL", "Diff", "Stored", "diff"]

# The fields whose change is a lifecycle ``changed``.
MATERIAL: Final = ("severity", "fixed_version", "fix_state", "suppression", "known_exploited")


class Stored(msgspec.Struct, frozen=True):
    """A finding with its lifecycle state and the evaluation that last changed it: as stored (the
    input of ``diff``) or as to store (its ``writes``)."""

    finding: Finding
    state: LifecycleState
    changed_by: str


class Diff(msgspec.Struct, frozen=True):
    """What one evaluation does: the changes to publish (in evaluation order, then the resolved
    ones), the rows to upsert, and the stored findings to mark resolved."""

    changes: list[tuple[Finding, LifecycleState]]
    writes: list[Stored]
    resolved: list[Finding]


def _material(f: Finding) -> tuple[object, ...]:
    return tuple(getattr(f, c) for c in MATERIAL)


def diff(
    stored: Mapping[str, Stored],
    findings: Sequence[Finding],
    *,
    evaluation_id: str,
    categories: Collection[str] | None = None,
) -> Diff:
    """The lifecycle changes of making ``findings`` the findings of a (digest, ruleset) whose stored
    findings (by finding id) are ``stored``, within ``categories`` (None: every category).

    A finding id repeated in ``findings`` counts once (the last one wins); a finding unchanged in
    substance keeps its stored state and ``changed_by``.
    """
    unique = {f.finding_id: f for f in findings}
    changes: list[tuple[Finding, LifecycleState]] = []
    writes: list[Stored] = []
    for f in unique.values():
        before = stored.get(f.finding_id)
        if before is None or before.state == "resolved":
            changes.append((f, "new"))
            writes.append(Stored(f, "new", evaluation_id))
        elif _material(before.finding) != _material(f):
            changes.append((f, "changed"))
            writes.append(Stored(f, "changed", evaluation_id))
        else:
            writes.append(Stored(f, before.state, before.changed_by))
    gone = [
        s.finding
        for fid, s in stored.items()
        if fid not in unique
        and s.state != "resolved"
        and (categories is None or s.finding.category in categories)
    ]
    changes += [(f, "resolved") for f in gone]
    return Diff(changes=changes, writes=writes, resolved=gone)
