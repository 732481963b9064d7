"""The lifecycle rule alone (``services/policy/lifecycle.py``): no database, every transition."""

from __future__ import annotations

import msgspec

from schemas.records import Finding
from schemas.vocabulary import LifecycleState
from services.policy.lifecycle import Stored, diff


def _finding(fid: str, severity: str = "HIGH", category: str = "CVE", **kw: object) -> Finding:
    return msgspec.convert(
        {
            "finding_id": fid,
            "category": category,
            "id": f"CVE-{fid}",
            "severity": severity,
            "title": "t",
            **kw,
        },
        Finding,
    )


def _stored(f: Finding, state: LifecycleState = "new", by: str = "scan-0") -> Stored:
    return Stored(f, state, by)


def test_first_evaluation_makes_everything_new() -> None:
    a, b = _finding("a"), _finding("b")
    result = diff({}, [a, b], evaluation_id="scan-1")
    assert result.changes == [(a, "new"), (b, "new")]
    assert [(w.finding, w.state, w.changed_by) for w in result.writes] == [
        (a, "new", "scan-1"),
        (b, "new", "scan-1"),
    ]
    assert result.resolved == []


def test_material_change_is_changed_and_cosmetic_change_keeps_state() -> None:
    stored = {"a": _stored(_finding("a")), "b": _stored(_finding("b"), "changed", "scan-0")}
    a2 = _finding("a", severity="CRITICAL")  # severity is material
    b2 = _finding("b", environment="cluster:x")  # the environment list is not
    result = diff(stored, [a2, b2], evaluation_id="scan-1")
    assert result.changes == [(a2, "changed")]
    assert [(w.finding, w.state, w.changed_by) for w in result.writes] == [
        (a2, "changed", "scan-1"),
        (b2, "changed", "scan-0"),  # stored state and changed_by kept
    ]


def test_every_material_field_counts() -> None:
    base = _finding("a", fixed_version="", fix_state="not-fixed")
    for change in (
        {"fixed_version": "1.2"},
        {"fix_state": "wont-fix"},
        {"suppression": "accepted risk"},
        {"known_exploited": True},
    ):
        now = msgspec.structs.replace(base, **change)
        assert diff({"a": _stored(base)}, [now], evaluation_id="e").changes == [(now, "changed")], change


def test_absent_findings_resolve_within_the_covered_categories_only() -> None:
    cve, secret = _finding("a"), _finding("s", category="InsecureContent")
    gone_before = _finding("r")
    stored = {"a": _stored(cve), "s": _stored(secret), "r": _stored(gone_before, "resolved")}
    result = diff(stored, [], evaluation_id="rematch:b2", categories=("CVE", "Coverage"))
    assert result.changes == [(cve, "resolved")]  # the secret is outside a rematch; r was resolved already
    assert result.resolved == [cve]
    assert result.writes == []


def test_a_resolved_finding_seen_again_is_new_and_duplicates_count_once() -> None:
    old = _finding("a")
    again, again_later = _finding("a", severity="LOW"), _finding("a", severity="MEDIUM")
    result = diff({"a": _stored(old, "resolved")}, [again, again_later], evaluation_id="scan-2")
    assert result.changes == [(again_later, "new")]
    assert len(result.writes) == 1
