"""One advisory source of an update: fetched if changed, decoded and written record by record.

Part of ``update_db`` (ingest.py): the unit's rows are replaced in the writer's copy; a source
gone from its host (HTTP 404) has its rows dropped and its state recorded as missing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import msgspec

from services.vulndb import osv
from services.vulndb.run import UpdateRun, now
from services.vulndb.sources import Problem, Unit, Validators, is_url, read_json_dir, read_zip
from services.vulndb.stats import SourceStats, Tally
from services.vulndb.store import DatabaseWriter, SourceState
from services.vulndb.versions import ecosystem_base

__all__ = ["advisory_unit", "selector"]


class _UnitTally(msgspec.Struct, kw_only=True):
    records: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def selector(ecosystems: Sequence[str] | None) -> Callable[[str], bool]:
    if not ecosystems:
        return lambda _ecosystem: True
    wanted = frozenset(ecosystem_base(e) for e in ecosystems)
    return lambda ecosystem: ecosystem_base(ecosystem) in wanted


def _ingest(
    items: Iterator[tuple[str, bytes] | Problem],
    label: str,
    writer: DatabaseWriter,
    keep: Callable[[str], bool],
    tally: Tally,
    tick: Callable[[str], None],
) -> _UnitTally:
    """Decode and store every item of one source (the writer has ``begin`` it)."""
    unit = _UnitTally()
    for item in items:
        unit.records += 1
        tally.records += 1
        tick(f"{label}: {unit.records} records read")
        if isinstance(item, Problem):
            tally.error(f"{label}:{item.name}", item.reason)
            continue
        name, data = item
        try:
            record = osv.decode_record(data)
        except msgspec.MsgspecError as exc:
            tally.error(f"{label}:{name}", str(exc))
            continue
        if record.withdrawn:
            tally.withdrawn += 1
            continue
        outcome, _rows = writer.add(record, keep)
        if outcome == "added":
            unit.added += 1
        elif outcome == "updated":
            unit.updated += 1
        elif outcome == "unchanged":
            unit.unchanged += 1
        elif outcome == "duplicate":
            tally.duplicates += 1
        else:
            tally.skipped += 1
    tally.added += unit.added
    tally.updated += unit.updated
    tally.unchanged += unit.unchanged
    return unit


def _read(unit: Unit, path: Path) -> Iterator[tuple[str, bytes] | Problem]:
    return read_json_dir(path) if unit.kind == "json-dir" else read_zip(path)


async def _drop_missing(run: UpdateRun, unit: Unit, selection: str, tally: Tally) -> None:
    """A source that is gone (HTTP 404): its stored advisories go, and its state says so."""
    writer = await run.open_writer()
    tally.removed += await asyncio.to_thread(writer.drop_source, unit.location)
    state = SourceState(
        name=unit.location,
        kind=unit.kind,
        ecosystem=unit.ecosystem,
        selection=selection,
        status="missing",
        updated_at=now(),
    )
    await asyncio.to_thread(writer.set_source, state)


def _state(unit: Unit, selection: str, v: Validators, counts: _UnitTally, stored: int) -> SourceState:
    """The source's state after it was read: what the next update compares against."""
    return SourceState(
        name=unit.location,
        kind=unit.kind,
        ecosystem=unit.ecosystem,
        selection=selection,
        fingerprint=v.fingerprint(),
        etag=v.etag,
        last_modified=v.last_modified,
        records=counts.records,
        advisories=stored,
        updated_at=now(),
    )


async def advisory_unit(
    run: UpdateRun,
    unit: Unit,
    selection: str,
    keep: Callable[[str], bool],
    tally: Tally,
    missing: list[str],
) -> SourceStats:
    label = unit.ecosystem or Path(unit.location).name
    got, path = await run.obtain(unit.location, label, unit.kind, selection)
    before = run.previous.get(unit.location)
    if got.status == "unchanged":
        run.say(f"{label}: unchanged")
        kept = before.advisories if before else 0
        return SourceStats(
            location=unit.location, ecosystem=unit.ecosystem, status="unchanged", advisories=kept
        )
    if got.status == "missing":
        run.say(f"{label}: not found (HTTP 404), skipped")
        missing.append(unit.ecosystem)
        if before is None or before.status != "missing":
            await _drop_missing(run, unit, selection, tally)
        return SourceStats(location=unit.location, ecosystem=unit.ecosystem, status="missing")
    writer = await run.open_writer()
    if before is not None and before.selection != selection:
        # Rows were kept with another ecosystem filter: nothing of them can be reused.
        await asyncio.to_thread(writer.drop_source, unit.location)
    await asyncio.to_thread(writer.begin, unit.location)
    try:
        counts = await asyncio.to_thread(_ingest, _read(unit, path), label, writer, keep, tally, run.tick)
        removed, stored = await asyncio.to_thread(writer.finish)
    finally:
        if is_url(unit.location):
            with contextlib.suppress(OSError):
                path.unlink()
    tally.removed += removed
    await asyncio.to_thread(writer.set_source, _state(unit, selection, got.validators, counts, stored))
    run.say(
        f"{label}: {counts.records} records: {counts.added} new, {counts.updated} changed, "
        f"{counts.unchanged} unchanged, {removed} removed; {stored} advisories stored"
    )
    return SourceStats(
        location=unit.location,
        ecosystem=unit.ecosystem,
        records=counts.records,
        advisories=stored,
        added=counts.added,
        updated=counts.updated,
        unchanged=counts.unchanged,
        removed=removed,
        bytes=got.bytes,
    )
