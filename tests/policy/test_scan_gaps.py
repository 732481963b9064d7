"""Coverage gaps reach the policy as records (``ScanCompleted.gaps``); notes only for older events."""

from __future__ import annotations

import datetime as dt

from schemas.records import CoverageGap, Distro
from services.vulndb.coverage import no_advisories, no_database, scan_gaps, unknown_distro

TODAY = dt.date(2024, 6, 1)


def test_structured_gaps_are_used_as_they_are() -> None:
    gap = CoverageGap(kind="no-advisories", subject="Hex", message="records only", severity="LOW")
    # the notes say something else: with records present they are not parsed
    notes = [unknown_distro("deb").note()]
    assert scan_gaps(notes, None, TODAY, gaps=[gap, gap]) == [gap]


def test_an_event_without_gaps_falls_back_to_the_notes_of_an_older_engine() -> None:
    npm, unknown = no_advisories("npm", "npm"), unknown_distro("deb")
    notes = ["unrelated", npm.note(), unknown.note(), "no advisory database loaded: matching skipped"]
    assert scan_gaps(notes, None, TODAY) == [npm, unknown, no_database()]


def test_a_marker_of_an_unknown_kind_is_not_a_gap() -> None:
    assert scan_gaps(["oops [coverage:made-up-kind:x]"], None, TODAY) == []


def test_the_distribution_support_gap_is_added_once_either_way() -> None:
    old_alpine = Distro(id="alpine", version_id="3.16.9")  # support ended 2024-05-23
    from_records = scan_gaps([], old_alpine, TODAY, gaps=[no_advisories("npm", "npm")])
    from_notes = scan_gaps([no_advisories("npm", "npm").note()], old_alpine, TODAY)
    assert from_records == from_notes
    assert [g.kind for g in from_records] == ["no-advisories", "eol-distro"]
