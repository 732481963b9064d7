"""``update_db``: build the local advisory database from an OSV source.

Fetching (``sources``) is kept apart from decoding (``osv``) and writing (``store``).
The blocking work (unzipping, decoding, SQLite) runs in a worker thread so the event
loop stays responsive; downloads are streamed to a temporary file beside the database.
A bad record is counted and reported, never fatal; an unreadable source is a
``VulnDBError`` and leaves any existing database untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import aiohttp
import msgspec

from services.common.errors import VulnDBError
from services.vulndb import osv
from services.vulndb.sources import Problem, Unit, download, plan, read_json_dir, read_zip
from services.vulndb.store import AdvisoryWriter
from services.vulndb.versions import ecosystem_base

MAX_REPORTED_ERRORS: Final = 1000
_TIMEOUT: Final = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=300)


class IngestError(msgspec.Struct, frozen=True):
    """A record that could not be ingested: where it was and why."""

    file: str
    reason: str


class SourceStats(msgspec.Struct, frozen=True, kw_only=True):
    """What one unit of a source contributed."""

    location: str
    ecosystem: str = ""
    status: str = "ok"  # "ok" or "missing" (HTTP 404 / folder absent)
    records: int = 0
    advisories: int = 0


class UpdateStats(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of ``update_db``.

    ``records`` counts documents read; each ends up in exactly one of ``advisories``
    (stored), ``withdrawn``, ``duplicates`` (same id already stored, not newer),
    ``skipped`` (no affected package in the selected ecosystems) or ``error_count``.
    ``errors`` lists the first ``MAX_REPORTED_ERRORS`` of them.
    """

    db_path: str
    records: int = 0
    advisories: int = 0
    affected: int = 0
    withdrawn: int = 0
    duplicates: int = 0
    skipped: int = 0
    error_count: int = 0
    errors: list[IngestError] = []
    missing: list[str] = []  # ecosystems the source does not have
    sources: list[SourceStats] = []
    seconds: float = 0.0


class _Tally:
    """Mutable counters behind ``UpdateStats`` (kept off the public frozen type)."""

    def __init__(self) -> None:
        self.records = self.advisories = self.affected = 0
        self.withdrawn = self.duplicates = self.skipped = self.error_count = 0
        self.errors: list[IngestError] = []

    def error(self, file: str, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(IngestError(file, reason))


def _selector(ecosystems: Sequence[str] | None) -> Callable[[str], bool]:
    if not ecosystems:
        return lambda _ecosystem: True
    wanted = frozenset(ecosystem_base(e) for e in ecosystems)
    return lambda ecosystem: ecosystem_base(ecosystem) in wanted


def _ingest(
    items: Iterator[tuple[str, bytes] | Problem],
    label: str,
    writer: AdvisoryWriter,
    keep: Callable[[str], bool],
    tally: _Tally,
) -> tuple[int, int]:
    """Decode and store every item; returns (records read, advisories stored) for this unit."""
    records = stored = 0
    for item in items:
        records += 1
        tally.records += 1
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
        result = writer.add(record, keep)
        if result.stored:
            stored += 1
            tally.affected += result.affected_rows
            if result.duplicate:
                tally.duplicates += 1
            else:
                tally.advisories += 1
        elif result.duplicate:
            tally.duplicates += 1
        else:
            tally.skipped += 1
    return records, stored


def _read(unit: Unit, path: Path) -> Iterator[tuple[str, bytes] | Problem]:
    return read_json_dir(path) if unit.kind == "json-dir" else read_zip(path)


async def update_db(
    source: str,
    db_path: Path,
    *,
    ecosystems: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> UpdateStats:
    """Build the advisory database at ``db_path`` from ``source`` and return what happened.

    ``source`` is an OSV bulk-export directory, a single ``all.zip``, a directory of OSV
    JSON files, or an http(s) URL base serving ``<URL>/<Ecosystem>/all.zip``.
    ``ecosystems`` (OSV names such as ``"Debian"`` or ``"Red Hat"``) selects the exports
    to read and the affected packages to keep. ``progress`` receives one line per unit.

    Raises ``VulnDBError`` when the source cannot be read, an HTTP error other than 404
    occurs, or nothing at all could be ingested; the previous database then stays.
    """
    started = time.monotonic()
    say = progress or (lambda _line: None)
    units = plan(source, ecosystems)
    keep = _selector(ecosystems)
    tally = _Tally()
    per_unit: list[SourceStats] = []
    missing: list[str] = []
    if ecosystems and units and all(u.kind == "zip" and u.ecosystem for u in units):
        present = {u.ecosystem for u in units}
        for eco in ecosystems:
            if eco not in present:
                missing.append(eco)
                per_unit.append(SourceStats(location=source, ecosystem=eco, status="missing"))
    writer = await asyncio.to_thread(AdvisoryWriter, db_path)
    try:
        async with contextlib.AsyncExitStack() as stack:
            session: aiohttp.ClientSession | None = None
            for unit in units:
                label = unit.ecosystem or Path(unit.location).name
                if unit.kind != "url":
                    say(f"{label}: reading {unit.location}")
                    n, stored = await asyncio.to_thread(
                        _ingest, _read(unit, Path(unit.location)), label, writer, keep, tally
                    )
                else:
                    if session is None:
                        session = await stack.enter_async_context(aiohttp.ClientSession(timeout=_TIMEOUT))
                    say(f"{label}: fetching {unit.location}")
                    with tempfile.TemporaryDirectory(dir=db_path.parent, prefix=".vulndb-") as tmp:
                        zip_path = Path(tmp) / "all.zip"
                        if not await download(session, unit.location, zip_path):
                            say(f"{label}: not found (HTTP 404), skipped")
                            missing.append(unit.ecosystem)
                            per_unit.append(
                                SourceStats(
                                    location=unit.location, ecosystem=unit.ecosystem, status="missing"
                                )
                            )
                            continue
                        n, stored = await asyncio.to_thread(
                            _ingest, read_zip(zip_path), label, writer, keep, tally
                        )
                say(f"{label}: {n} records, {stored} advisories stored")
                per_unit.append(
                    SourceStats(
                        location=unit.location, ecosystem=unit.ecosystem, records=n, advisories=stored
                    )
                )
        if writer.advisory_count == 0:
            raise VulnDBError(
                f"no advisories ingested from {source} "
                f"({tally.records} records read, {tally.error_count} errors); database not replaced"
            )
        built_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta = {
            "built_at": built_at,
            "sources": osv.ENCODER.encode(per_unit).decode(),
            "source": source,
            "advisories": str(tally.advisories),
            "affected": str(tally.affected),
        }
        await asyncio.to_thread(writer.commit, meta)
    except BaseException:
        writer.abort()
        raise
    stats = UpdateStats(
        db_path=str(db_path),
        records=tally.records,
        advisories=tally.advisories,
        affected=tally.affected,
        withdrawn=tally.withdrawn,
        duplicates=tally.duplicates,
        skipped=tally.skipped,
        error_count=tally.error_count,
        errors=tally.errors,
        missing=missing,
        sources=per_unit,
        seconds=round(time.monotonic() - started, 3),
    )
    say(
        f"done: {stats.advisories} advisories, {stats.affected} affected packages, "
        f"{stats.withdrawn} withdrawn, {stats.error_count} errors in {stats.seconds}s"
    )
    return stats
