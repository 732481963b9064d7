"""``update_db``: build or incrementally update the local advisory database.

Fetching (``sources``) is kept apart from decoding (``osv``, ``kev``, ``epss``) and
writing (``store``). Each source (one OSV export, the KEV catalog, the EPSS file) has a
fingerprint — HTTP ``ETag`` / ``Last-Modified`` via a conditional GET, or a file's mtime
and size — and an unchanged source is not read again. When nothing changed at all the
database file is not touched. Otherwise the update works on a copy that replaces the
database atomically at the end, rewriting only records whose ``modified`` changed and
dropping records that are gone from their source or withdrawn.

The blocking work (unzipping, decoding, SQLite) runs in a worker thread so the event
loop stays responsive; downloads stream to a temporary file beside the database and
memory stays bounded whatever the size of an export. A bad record is counted and
reported, never fatal; an unreadable source is a ``VulnDBError`` and leaves any existing
database untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from services.common.errors import VulnDBError
from services.vulndb import osv
from services.vulndb.db import VulnDB
from services.vulndb.feeds import FEED_KINDS, update_feed
from services.vulndb.ingest_unit import advisory_unit, selector
from services.vulndb.run import Say, Ticker, UpdateRun, now
from services.vulndb.sources import plan
from services.vulndb.stats import MAX_REPORTED_ERRORS, IngestError, SourceStats, Tally, UpdateStats
from services.vulndb.store import SourceState, previous_sources

__all__ = [
    "MAX_REPORTED_ERRORS",
    "IngestError",
    "SourceStats",
    "UpdateStats",
    "update_db",
]


async def update_db(
    source: str,
    db_path: Path,
    *,
    ecosystems: Sequence[str] | None = None,
    kev: str | None = None,
    epss: str | None = None,
    cvss: str | None = None,
    full: bool = False,
    progress: Say | None = None,
    status: Say | None = None,
    nvd_api_key: str = "",
) -> UpdateStats:
    """Build or update the advisory database at ``db_path`` from ``source``; return what happened.

    ``source`` is an OSV bulk-export directory, a single ``all.zip``, a directory of OSV
    JSON files, or an http(s) URL base serving ``<URL>/<Ecosystem>/all.zip``.
    ``ecosystems`` (OSV names such as ``"Debian"`` or ``"Red Hat"``) selects the exports
    to read and the affected packages to keep. ``kev`` / ``epss`` / ``cvss`` name a KEV
    catalog (JSON), an EPSS CSV and a tree or zip of CVE JSON 5 records (path or URL) to
    load; when omitted the ones loaded before are kept.
    ``full`` ignores the existing database and builds from scratch.

    ``nvd_api_key``: sent to NVD's API when ``cvss`` is an ``nvd+`` mirror location.
    ``progress`` receives one line per step; ``status`` receives transient updates (bytes
    downloaded, records read) at most twice a second.

    One update at a time per database: a second concurrent one fails at once.
    Raises ``VulnDBError`` when a source cannot be read, an HTTP error other than 404
    occurs, or the result would hold no advisory at all; the previous database then stays.
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(db_path):
        return await _update(
            source,
            db_path,
            ecosystems=ecosystems,
            feeds={"kev": kev, "epss": epss, "cvss": cvss},
            full=full,
            progress=progress,
            status=status,
            nvd_api_key=nvd_api_key,
        )


@contextlib.contextmanager
def _exclusive(db_path: Path) -> Iterator[None]:
    """Hold ``<db_path>.lock`` (an advisory ``flock``) for the duration of one update."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    try:
        handle = lock_path.open("a")
    except OSError as exc:
        raise VulnDBError(f"cannot create the update lock {lock_path}: {exc}") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise VulnDBError(f"another update of {db_path} is running (lock {lock_path})") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def _update(
    source: str,
    db_path: Path,
    *,
    ecosystems: Sequence[str] | None = None,
    feeds: dict[str, str | None],
    full: bool = False,
    progress: Say | None = None,
    status: Say | None = None,
    nvd_api_key: str = "",
) -> UpdateStats:
    """``update_db`` with the update lock held; ``feeds`` maps a feed kind to its location."""
    started = time.monotonic()
    say = progress or (lambda _line: None)
    units = plan(source, ecosystems)
    selection = ",".join(sorted(ecosystems)) if ecosystems else "*"
    keep = selector(ecosystems)
    previous = None if full else await asyncio.to_thread(previous_sources, db_path)
    tally = Tally()
    per_unit: list[SourceStats] = []
    missing: list[str] = []
    if ecosystems and units and all(u.kind == "zip" and u.ecosystem for u in units):
        present = {u.ecosystem for u in units}
        missing.extend(eco for eco in ecosystems if eco not in present)
        per_unit.extend(SourceStats(location=source, ecosystem=eco, status="missing") for eco in missing)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    run: UpdateRun | None = None
    try:
        async with contextlib.AsyncExitStack() as stack:
            tmp = Path(
                stack.enter_context(tempfile.TemporaryDirectory(dir=db_path.parent, prefix=".vulndb-"))
            )
            run = UpdateRun(db_path, tmp, previous, say, Ticker(status), stack, nvd_api_key=nvd_api_key)
            for unit in units:
                per_unit.append(await advisory_unit(run, unit, selection, keep, tally, missing))
            per_unit.extend(await _drop_unplanned(run, {u.location for u in units}, tally))
            loaded: list[SourceStats] = []
            for kind, location in feeds.items():
                if location:
                    loaded.append(await update_feed(run, kind, location, tally))
            if run.writer is None:
                return await asyncio.to_thread(
                    _unchanged_stats, db_path, per_unit + loaded, missing, tally, started, say
                )
            counts = await _commit(run, source, previous, db_path, tally)
    except BaseException:
        if run is not None and run.writer is not None:
            run.writer.abort()
        raise
    stats = _stats(db_path, tally, counts, missing, per_unit + loaded, started)
    say(_done_line(stats))
    return stats


async def _drop_unplanned(run: UpdateRun, planned: set[str], tally: Tally) -> list[SourceStats]:
    """Advisory sources of the previous build that are no longer planned: their rows go."""
    out: list[SourceStats] = []
    for name, state in run.previous.items():
        if state.kind in FEED_KINDS or name in planned:
            continue
        writer = await run.open_writer()
        removed = await asyncio.to_thread(writer.drop_source, name)
        tally.removed += removed
        run.say(f"{state.ecosystem or name}: no longer a source, {removed} advisories removed")
        out.append(SourceStats(location=name, ecosystem=state.ecosystem, status="removed", removed=removed))
    return out


async def _commit(
    run: UpdateRun, source: str, previous: dict[str, SourceState] | None, db_path: Path, tally: Tally
) -> dict[str, int]:
    """Check the new build holds advisories, write its meta rows and commit it; its counts."""
    writer = run.writer
    assert writer is not None  # the caller returned early when nothing was written
    counts = await asyncio.to_thread(writer.counts)
    if counts["advisories"] == 0:
        raise VulnDBError(
            f"no advisories ingested from {source} "
            f"({tally.records} records read, {tally.error_count} errors); database not replaced"
        )
    tally.duplicates += counts["advisory_copies"] - counts["advisories"]
    sources = await asyncio.to_thread(writer.sources)
    meta = {
        **_previous_meta(previous, db_path),
        **run.meta,
        "built_at": now(),
        "source": source,
        "sources": osv.ENCODER.encode(list(sources.values())).decode(),
        **{key: str(counts[key]) for key in ("advisories", "affected", "kev", "epss", "cvss")},
    }
    await asyncio.to_thread(writer.commit, meta)
    return counts


def _stats(
    db_path: Path,
    tally: Tally,
    counts: dict[str, int],
    missing: list[str],
    sources: list[SourceStats],
    started: float,
) -> UpdateStats:
    """What an update that wrote a new build did."""
    return UpdateStats(
        db_path=str(db_path),
        records=tally.records,
        advisories=counts["advisories"],
        affected=counts["affected"],
        added=tally.added,
        updated=tally.updated,
        unchanged=tally.unchanged,
        removed=tally.removed,
        withdrawn=tally.withdrawn,
        duplicates=tally.duplicates,
        skipped=tally.skipped,
        error_count=tally.error_count,
        errors=tally.errors,
        missing=missing,
        sources=sources,
        kev=counts["kev"],
        epss=counts["epss"],
        seconds=round(time.monotonic() - started, 3),
    )


def _done_line(stats: UpdateStats) -> str:
    return (
        f"done: {stats.advisories} advisories ({stats.added} new, {stats.updated} changed, "
        f"{stats.removed} removed), {stats.affected} affected packages, {stats.withdrawn} withdrawn, "
        f"{stats.kev} known exploited, {stats.epss} EPSS scores, {stats.error_count} errors "
        f"in {stats.seconds}s"
    )


def _previous_meta(previous: dict[str, SourceState] | None, db_path: Path) -> dict[str, str]:
    """The meta rows of the database being updated (feed versions survive an update without feeds)."""
    if previous is None:
        return {}
    with contextlib.suppress(VulnDBError), VulnDB.open(db_path) as db:
        return {k: v for k, v in db.meta().items() if k.startswith(("kev_", "epss_", "cvss_"))}
    return {}


def _unchanged_stats(
    db_path: Path,
    sources: list[SourceStats],
    missing: list[str],
    tally: Tally,
    started: float,
    say: Say,
) -> UpdateStats:
    """Every source was unchanged: the database stays as it was; report its totals."""
    with VulnDB.open(db_path) as db:
        meta = db.meta()

    def count(key: str) -> int:
        return int(meta.get(key, "0") or 0)

    stats = UpdateStats(
        db_path=str(db_path),
        changed=False,
        records=tally.records,
        advisories=count("advisories"),
        affected=count("affected"),
        missing=missing,
        sources=sources,
        kev=count("kev"),
        epss=count("epss"),
        seconds=round(time.monotonic() - started, 3),
    )
    say(f"done: every source unchanged, database left as it was ({stats.advisories} advisories)")
    return stats
