"""The SQLite layout of the advisory database and the writer that builds or updates it.

Every update is written into ``<db_path>.tmp`` — a fresh file for a cold build, a copy of
the current database for an incremental one — and renamed over ``db_path`` only when
complete, so a reader never sees half a database and a failed update keeps the old one.

Advisories are stored per *source* (one OSV export, e.g. the Debian ``all.zip``), keyed by
(source, id): the same GHSA record shipped in both the npm and the NuGet exports is stored
once per export, and readers take the copy with the newest ``modified``. That makes an
incremental update of one source self-contained: records whose ``modified`` did not change
are left alone, changed ones are rewritten, and ids the source no longer has are deleted.
Free-form OSV fields are stored as JSON text.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final, Literal

import msgspec

from services.common.errors import VulnDBError
from services.vulndb import cvss_source, osv
from services.vulndb.rows import AdvisoryRow, AffectedRow, to_rows

SCHEMA_VERSION: Final = "2"

DDL: Final = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
    sid INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,  -- the path or URL read
    kind TEXT NOT NULL,  -- zip, json-dir, url, kev, epss, cvss
    ecosystem TEXT NOT NULL,
    selection TEXT NOT NULL,  -- the ecosystems filter the rows were kept with
    fingerprint TEXT NOT NULL,
    etag TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    status TEXT NOT NULL,
    records INTEGER NOT NULL,
    advisories INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE advisories (
    sid INTEGER NOT NULL,
    id TEXT NOT NULL,
    modified TEXT NOT NULL,
    published TEXT NOT NULL,
    summary TEXT NOT NULL,
    details TEXT NOT NULL,
    aliases TEXT NOT NULL,
    upstream TEXT NOT NULL,
    related TEXT NOT NULL,
    severity TEXT NOT NULL,
    "references" TEXT NOT NULL,
    database_specific TEXT,
    PRIMARY KEY (sid, id)
);
CREATE TABLE affected (
    sid INTEGER NOT NULL,
    advisory_id TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    package TEXT NOT NULL,
    purl TEXT,
    ranges TEXT NOT NULL,
    versions TEXT NOT NULL,
    ecosystem_specific TEXT,
    database_specific TEXT
);
CREATE TABLE kev (
    cve TEXT PRIMARY KEY,
    date_added TEXT NOT NULL,
    due_date TEXT NOT NULL,
    ransomware TEXT NOT NULL,
    notes TEXT NOT NULL
);
CREATE TABLE epss (cve TEXT PRIMARY KEY, epss REAL NOT NULL, percentile REAL NOT NULL);
"""

# Added after schema 2 shipped: created on demand so an existing database updates in place
# (a database without it simply has no CVE ratings; ``VulnDB.cve_ratings`` answers nothing).
CVSS_DDL: Final = """
CREATE TABLE IF NOT EXISTS cve_ratings (
    cve TEXT NOT NULL,
    provider TEXT NOT NULL,  -- cna:<shortName> or adp:<shortName> of the CVE record
    kind TEXT NOT NULL,  -- cvss_v4, cvss_v3, cvss_v2, rating
    severity TEXT NOT NULL,
    score REAL NOT NULL,
    vector TEXT NOT NULL,
    PRIMARY KEY (cve, provider, kind)
);
-- derived from the advisories table at every commit (provider osv:<advisory id>)
CREATE TABLE IF NOT EXISTS advisory_ratings AS SELECT * FROM cve_ratings WHERE 0;
"""

# Built after a cold bulk load (cheaper than maintaining them row by row); an incremental
# update works on a copy that already has them.
INDEXES: Final = """
CREATE INDEX IF NOT EXISTS affected_ecosystem_package ON affected (ecosystem, package);
CREATE INDEX IF NOT EXISTS affected_advisory ON affected (sid, advisory_id);
"""

_INSERT_ADVISORY: Final = "INSERT INTO advisories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_AFFECTED: Final = "INSERT INTO affected VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


class SourceState(msgspec.Struct, frozen=True, kw_only=True):
    """One row of ``sources``: what was read, which version of it, and what it gave."""

    name: str
    kind: str
    ecosystem: str = ""
    selection: str = ""
    fingerprint: str = ""
    etag: str = ""
    last_modified: str = ""
    status: str = "ok"  # ok, missing
    records: int = 0
    advisories: int = 0
    updated_at: str = ""


KevRow = tuple[str, str, str, str, str]
"""One ``kev`` row: (cve, date_added, due_date, ransomware, notes)."""

RatingRow = tuple[str, str, str, str, float, str]
"""One ``cve_ratings`` row: (cve, provider, kind, severity, score, vector)."""

FeedTable = Literal["kev", "epss", "cve_ratings"]
_FEED_WIDTH: Final[dict[str, int]] = {"kev": 5, "epss": 3, "cve_ratings": 6}


Outcome = Literal["added", "updated", "unchanged", "duplicate", "skipped"]


def read_sources(conn: sqlite3.Connection) -> dict[str, SourceState]:
    """The ``sources`` table by name."""
    rows = conn.execute(
        "SELECT name, kind, ecosystem, selection, fingerprint, etag, last_modified, status, "
        "records, advisories, updated_at FROM sources ORDER BY sid"
    ).fetchall()
    fields = SourceState.__struct_fields__
    return {row[0]: SourceState(**dict(zip(fields, row, strict=True))) for row in rows}


class DatabaseWriter:
    """Builds the next database at ``<path>.tmp``; ``commit`` renames it into place.

    ``incremental`` starts from a copy of the current database (which must have this
    schema version); otherwise from an empty one. Rows are buffered and written with
    ``executemany`` in batches so memory stays bounded whatever the size of the export;
    per source, only the ids and ``modified`` stamps are held. Not thread-safe: one caller
    at a time (it may be a worker thread other than the creating one).
    """

    def __init__(self, path: Path, *, incremental: bool = False, batch_size: int = 2000) -> None:
        self.path = path
        self.tmp_path = path.with_name(path.name + ".tmp")
        self.incremental = incremental
        self._batch_size = batch_size
        self._advisories: list[AdvisoryRow] = []
        self._affected: list[AffectedRow] = []
        self._sid = 0
        self._existing: dict[str, str] = {}  # id -> modified, stored for the open source before
        self._seen: dict[str, str] = {}  # id -> modified, read from the open source this time
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                self.tmp_path.unlink()
            if incremental:
                shutil.copyfile(path, self.tmp_path)
            self._conn = sqlite3.connect(self.tmp_path, check_same_thread=False)
            # A scratch file renamed only when complete: durability of each write is moot.
            self._conn.execute("PRAGMA journal_mode = OFF")
            self._conn.execute("PRAGMA synchronous = OFF")
            if not incremental:
                self._conn.executescript(DDL)
            self._conn.executescript(CVSS_DDL)
        except (OSError, sqlite3.Error) as exc:
            self.abort()
            raise VulnDBError(f"cannot create advisory database {self.tmp_path}: {exc}") from exc

    def _execute(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise VulnDBError(f"cannot write advisory database {self.tmp_path}: {exc}") from exc

    # -- sources ------------------------------------------------------------------------------

    def sources(self) -> dict[str, SourceState]:
        """The sources recorded so far (from the copied database, plus this run's)."""
        try:
            return read_sources(self._conn)
        except sqlite3.Error as exc:
            raise VulnDBError(f"cannot read advisory database {self.tmp_path}: {exc}") from exc

    def _sid_of(self, name: str) -> int:
        row = self._execute("SELECT sid FROM sources WHERE name = ?", (name,))
        if row:
            return int(str(row[0][0]))
        self._execute(
            "INSERT INTO sources (name, kind, ecosystem, selection, fingerprint, etag, last_modified, "
            "status, records, advisories, updated_at) VALUES (?, '', '', '', '', '', '', '', 0, 0, '')",
            (name,),
        )
        return int(str(self._execute("SELECT sid FROM sources WHERE name = ?", (name,))[0][0]))

    def set_source(self, state: SourceState) -> None:
        """Record ``state`` for its source (created when new)."""
        sid = self._sid_of(state.name)
        self._execute(
            "UPDATE sources SET kind = ?, ecosystem = ?, selection = ?, fingerprint = ?, etag = ?, "
            "last_modified = ?, status = ?, records = ?, advisories = ?, updated_at = ? WHERE sid = ?",
            (
                state.kind,
                state.ecosystem,
                state.selection,
                state.fingerprint,
                state.etag,
                state.last_modified,
                state.status,
                state.records,
                state.advisories,
                state.updated_at,
                sid,
            ),
        )

    def drop_source(self, name: str) -> int:
        """Delete a source and its advisories; returns how many advisories went."""
        self._flush()
        row = self._execute("SELECT sid FROM sources WHERE name = ?", (name,))
        if not row:
            return 0
        sid = row[0][0]
        gone = int(str(self._execute("SELECT count(*) FROM advisories WHERE sid = ?", (sid,))[0][0]))
        self._execute("DELETE FROM affected WHERE sid = ?", (sid,))
        self._execute("DELETE FROM advisories WHERE sid = ?", (sid,))
        self._execute("DELETE FROM sources WHERE sid = ?", (sid,))
        return gone

    # -- advisories of one source ------------------------------------------------------------------

    def begin(self, name: str) -> None:
        """Start (re)reading source ``name``: remember which ids it had and when they were modified."""
        self._flush()
        self._sid = self._sid_of(name)
        self._existing = {
            str(i): str(m)
            for i, m in self._execute("SELECT id, modified FROM advisories WHERE sid = ?", (self._sid,))
        }
        self._seen = {}

    def _delete(self, advisory_id: str) -> None:
        self._flush()
        self._execute("DELETE FROM advisories WHERE sid = ? AND id = ?", (self._sid, advisory_id))
        self._execute("DELETE FROM affected WHERE sid = ? AND advisory_id = ?", (self._sid, advisory_id))

    def add(self, record: osv.Record, keep: Callable[[str], bool]) -> tuple[Outcome, int]:
        """Store one record of the open source; returns what happened and its affected-row count.

        A record whose ``modified`` equals the stored copy's is "unchanged" and not rewritten.
        An id repeated within the source keeps the copy with the newest ``modified``.
        """
        advisory, affected = to_rows(self._sid, record, keep)
        if not affected:
            return "skipped", 0
        repeated = self._seen.get(record.id)
        if repeated is not None and record.modified <= repeated:
            return "duplicate", 0
        self._seen[record.id] = record.modified
        before = self._existing.get(record.id)
        if repeated is None and before == record.modified:
            return "unchanged", 0
        if repeated is not None or before is not None:
            self._delete(record.id)
        self._advisories.append(advisory)
        self._affected.extend(affected)
        if len(self._advisories) >= self._batch_size:
            self._flush()
        if repeated is not None:
            return "duplicate", len(affected)
        return ("updated" if before is not None else "added"), len(affected)

    def finish(self) -> tuple[int, int]:
        """End the open source: delete the ids it no longer has (or that are now withdrawn).
        Returns (advisories deleted, advisories the source now holds)."""
        gone = [i for i in self._existing if i not in self._seen]
        for advisory_id in gone:
            self._delete(advisory_id)
        self._flush()
        self._existing, self._seen = {}, {}
        held = self._execute("SELECT count(*) FROM advisories WHERE sid = ?", (self._sid,))
        return len(gone), int(str(held[0][0]))

    def _flush(self) -> None:
        try:
            self._conn.executemany(_INSERT_ADVISORY, self._advisories)
            self._conn.executemany(_INSERT_AFFECTED, self._affected)
        except sqlite3.Error as exc:
            raise VulnDBError(f"cannot write advisory database {self.tmp_path}: {exc}") from exc
        self._advisories.clear()
        self._affected.clear()

    # -- exploit data --------------------------------------------------------------------------

    def replace_feed(self, table: FeedTable, rows: Iterable[tuple[object, ...]]) -> int:
        """Replace a feed's table (``kev``: ``KevRow``, ``epss``: (cve, epss, percentile),
        ``cve_ratings``: ``RatingRow``) with ``rows``; returns the row count."""
        self._execute(f"DELETE FROM {table}")
        marks = ", ".join("?" * _FEED_WIDTH[table])
        try:
            self._conn.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", rows)
        except sqlite3.Error as exc:
            raise VulnDBError(f"cannot write advisory database {self.tmp_path}: {exc}") from exc
        return int(str(self._execute(f"SELECT count(*) FROM {table}")[0][0]))

    # -- totals and commit -----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Distinct advisories, stored advisory copies, affected rows, KEV, EPSS and CVE rating rows."""
        self._flush()
        queries = {
            "advisories": "SELECT count(DISTINCT id) FROM advisories",
            "advisory_copies": "SELECT count(*) FROM advisories",
            "affected": "SELECT count(*) FROM affected",
            "kev": "SELECT count(*) FROM kev",
            "epss": "SELECT count(*) FROM epss",
            "cvss": "SELECT count(*) FROM cve_ratings",
        }
        return {k: int(str(self._execute(q)[0][0])) for k, q in queries.items()}

    def _rate_advisories(self) -> None:
        """Rebuild ``advisory_ratings``: what the stored advisories rate the CVEs they name."""
        self._execute("DELETE FROM advisory_ratings")
        rows = self._execute("SELECT id, aliases, severity, database_specific FROM advisories")
        ratings = cvss_source.advisory_ratings(
            (str(r[0]), str(r[1]), str(r[2]), None if r[3] is None else str(r[3])) for r in rows
        )
        self._conn.executemany(
            "INSERT OR REPLACE INTO advisory_ratings VALUES (?, ?, ?, ?, ?, ?)",
            ((r.cve, r.provider, r.kind, r.severity, r.score, r.vector) for r in ratings),
        )

    def commit(self, meta: dict[str, str]) -> None:
        """Write ``meta``, build the indexes and atomically replace ``path`` with the new database."""
        try:
            self._flush()
            self._rate_advisories()
            self._conn.executescript(INDEXES)
            self._conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("schema_version", SCHEMA_VERSION), *sorted(meta.items())],
            )
            self._conn.commit()
            self._conn.execute("ANALYZE")
            self._conn.close()
            os.replace(self.tmp_path, self.path)
        except (OSError, sqlite3.Error) as exc:
            self.abort()
            raise VulnDBError(f"cannot finish advisory database {self.path}: {exc}") from exc

    def abort(self) -> None:
        """Drop the half-built database; the previous one, if any, stays in place."""
        conn = getattr(self, "_conn", None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        with contextlib.suppress(OSError):
            self.tmp_path.unlink()


def previous_sources(path: Path) -> dict[str, SourceState] | None:
    """The sources of the database at ``path`` if it can be updated in place (it exists, is
    readable and has this schema version); None when the next update must build from scratch."""
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None or row[0] != SCHEMA_VERSION:
            return None
        return read_sources(conn)
    except sqlite3.Error:
        return None
    finally:
        conn.close()
