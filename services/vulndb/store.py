"""The SQLite layout of the advisory database and the writer that builds it.

The database is built into ``<db_path>.tmp`` and renamed over ``db_path`` only when
complete, so a reader never sees half a database and a failed update keeps the old one.
Free-form OSV fields are stored as JSON text; ``affected`` rows are indexed by
(ecosystem, package), the only lookup the matcher makes.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Final

import msgspec

from services.common.errors import VulnDBError
from services.vulndb import osv

SCHEMA_VERSION: Final = "1"

DDL: Final = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE advisories (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    published TEXT NOT NULL,
    summary TEXT NOT NULL,
    details TEXT NOT NULL,
    aliases TEXT NOT NULL,
    upstream TEXT NOT NULL,
    severity TEXT NOT NULL,
    "references" TEXT NOT NULL,
    database_specific TEXT
);
CREATE TABLE affected (
    advisory_id TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    package TEXT NOT NULL,
    purl TEXT,
    ranges TEXT NOT NULL,
    versions TEXT NOT NULL,
    ecosystem_specific TEXT,
    database_specific TEXT
);
"""

# Built after the bulk load: cheaper than maintaining them row by row.
INDEXES: Final = """
CREATE INDEX affected_ecosystem_package ON affected (ecosystem, package);
CREATE INDEX affected_advisory ON affected (advisory_id);
"""

_INSERT_ADVISORY: Final = "INSERT INTO advisories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_AFFECTED: Final = "INSERT INTO affected VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

AdvisoryRow = tuple[str, str, str, str, str, str, str, str, str, str | None]
AffectedRow = tuple[str, str, str, str | None, str, str, str | None, str | None]


def _json(value: object) -> str:
    return osv.ENCODER.encode(value).decode()


def to_rows(record: osv.Record, keep: Callable[[str], bool]) -> tuple[AdvisoryRow, list[AffectedRow]]:
    """The database rows of one record; affected entries without a package or outside ``keep`` drop out."""
    affected: list[AffectedRow] = []
    for entry in record.affected or ():
        pkg = entry.package
        if pkg is None or not pkg.ecosystem or not pkg.name or not keep(pkg.ecosystem):
            continue
        affected.append(
            (
                record.id,
                pkg.ecosystem,
                pkg.name,
                pkg.purl,
                _json(entry.ranges),
                _json(entry.versions),
                osv.raw_json(entry.ecosystem_specific),
                osv.raw_json(entry.database_specific),
            )
        )
    advisory: AdvisoryRow = (
        record.id,
        record.modified,
        record.published,
        record.summary,
        record.details,
        _json(record.aliases or ()),
        _json(record.upstream or ()),
        _json(record.severity or ()),
        _json(record.references or ()),
        osv.raw_json(record.database_specific),
    )
    return advisory, affected


class AddResult(msgspec.Struct, frozen=True):
    """What ``AdvisoryWriter.add`` did with one record."""

    stored: bool
    affected_rows: int = 0
    duplicate: bool = False


class AdvisoryWriter:
    """Builds a new database at ``<path>.tmp``; ``commit`` renames it into place.

    Rows are buffered and written with ``executemany`` in batches so memory stays bounded
    whatever the size of the export. Not thread-safe: one caller at a time (it may be a
    worker thread other than the creating one).
    """

    def __init__(self, path: Path, *, batch_size: int = 2000) -> None:
        self.path = path
        self.tmp_path = path.with_name(path.name + ".tmp")
        self._batch_size = batch_size
        self._advisories: list[AdvisoryRow] = []
        self._affected: list[AffectedRow] = []
        self._seen: dict[str, str] = {}  # id -> modified, to resolve ids present in several exports
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                self.tmp_path.unlink()
            self._conn = sqlite3.connect(self.tmp_path, check_same_thread=False)
            # A scratch file renamed only when complete: durability of each write is moot.
            self._conn.execute("PRAGMA journal_mode = OFF")
            self._conn.execute("PRAGMA synchronous = OFF")
            self._conn.executescript(DDL)
        except (OSError, sqlite3.Error) as exc:
            raise VulnDBError(f"cannot create advisory database {self.tmp_path}: {exc}") from exc

    def add(self, record: osv.Record, keep: Callable[[str], bool]) -> AddResult:
        """Queue one record. The same id seen again (the OSV export repeats a record in every
        ecosystem it names) is kept once: the copy with the newest ``modified`` wins."""
        advisory, affected = to_rows(record, keep)
        if not affected:
            return AddResult(stored=False)
        previous = self._seen.get(record.id)
        if previous is not None:
            if record.modified <= previous:
                return AddResult(stored=False, duplicate=True)
            self._flush()
            self._conn.execute("DELETE FROM advisories WHERE id = ?", (record.id,))
            self._conn.execute("DELETE FROM affected WHERE advisory_id = ?", (record.id,))
        self._seen[record.id] = record.modified
        self._advisories.append(advisory)
        self._affected.extend(affected)
        if len(self._advisories) >= self._batch_size:
            self._flush()
        return AddResult(stored=True, affected_rows=len(affected), duplicate=previous is not None)

    def _flush(self) -> None:
        try:
            self._conn.executemany(_INSERT_ADVISORY, self._advisories)
            self._conn.executemany(_INSERT_AFFECTED, self._affected)
        except sqlite3.Error as exc:
            raise VulnDBError(f"cannot write advisory database {self.tmp_path}: {exc}") from exc
        self._advisories.clear()
        self._affected.clear()

    @property
    def advisory_count(self) -> int:
        """Distinct advisories stored so far."""
        return len(self._seen)

    def commit(self, meta: dict[str, str]) -> None:
        """Write ``meta``, build the indexes and atomically replace ``path`` with the new database."""
        try:
            self._flush()
            self._conn.executescript(INDEXES)
            self._conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
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
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
        with contextlib.suppress(OSError):
            self.tmp_path.unlink()
