"""Coverage gaps: end-of-life and unknown releases, notes carrying gaps, and the dated support table."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.records import Distro
from services.vulndb.coverage import (
    distro_gap,
    eol_table,
    gaps_from_notes,
    no_advisories,
    scan_gaps,
    unknown_distro,
)

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("distro", "gap"),
    [
        (Distro(id="debian", version_id="12"), None),
        (Distro(id="debian", version_id="11"), "coverage:eol-distro:debian-11"),  # LTS ended 2026-08-31
        (Distro(id="ubuntu", version_id="20.04"), "coverage:eol-distro:ubuntu-20.04"),
        (Distro(id="ubuntu", version_id="24.04"), None),
        (Distro(id="alpine", version_id="3.20.3"), "coverage:eol-distro:alpine-3.20"),
        (Distro(id="alpine", version_id="3.22.1"), None),
        (Distro(id="rhel", version_id="9.4"), None),
        (Distro(id="debian", version_id="99"), "coverage:unsupported-distro:debian-99"),
        (Distro(id="debian", version_id=""), "coverage:unsupported-distro:debian-unknown"),
        (Distro(id="fedora", version_id="40"), None),  # outside the table: the matcher reports it
        (None, None),
    ],
)
def test_distro_gap(distro: Distro | None, gap: str | None) -> None:
    found = distro_gap(distro, TODAY)
    assert (found.id if found else None) == gap


def test_eol_is_on_the_day_after_the_end() -> None:
    eleven = Distro(id="debian", version_id="11")
    assert distro_gap(eleven, dt.date(2026, 8, 31)) is None
    gap = distro_gap(eleven, dt.date(2026, 9, 1))
    assert gap is not None
    assert gap.severity == "MEDIUM"
    assert "2026-08-31" in gap.message


def test_table_has_every_resolvable_distribution_and_valid_dates() -> None:
    table = eol_table()
    assert {"debian", "ubuntu", "alpine", "rhel", "almalinux", "rocky"} <= set(table)
    for releases in table.values():
        for end in releases.values():
            dt.date.fromisoformat(end)


def test_notes_round_trip() -> None:
    gaps = [no_advisories("npm", "npm"), unknown_distro("deb"), no_advisories("Debian:13", "deb")]
    notes = ["plain note", *(g.note() for g in gaps), gaps[0].note()]
    assert gaps_from_notes(notes) == gaps
    assert [g.severity for g in gaps] == ["LOW", "MEDIUM", "MEDIUM"]
    skipped = gaps_from_notes(
        ["no advisory database loaded: vulnerability matching skipped (run `assay db update`)"]
    )
    assert [g.id for g in skipped] == ["coverage:no-database:all"]


def test_scan_gaps_adds_eol_once() -> None:
    gaps = scan_gaps([no_advisories("npm", "npm").note()], Distro(id="alpine", version_id="3.20.3"), TODAY)
    assert [g.id for g in gaps] == ["coverage:no-advisories:npm", "coverage:eol-distro:alpine-3.20"]
