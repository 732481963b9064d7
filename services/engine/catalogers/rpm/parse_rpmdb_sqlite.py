"""rpm's SQLite database (rpm >= 4.16: RHEL 9, Fedora 33+, Amazon Linux 2023): ``rpmdb.sqlite``.

The table ``Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`` holds one header blob per
installed package. RHEL 9 keeps the file in ``/usr/lib/sysimage/rpm`` and makes
``/var/lib/rpm`` a symlink to it; the layer walk does not follow symlinks, so both paths are
requested. The walk hands the file over as a stream; SQLite needs a file name, so the stream
is copied into a private temporary directory and opened read-only and ``immutable`` (no
journal, WAL or lock files are created or read beside it).

The database is image content, so its schema is not trusted: ``trusted_schema`` is off,
``Packages`` must be a plain table (a view, a virtual table or generated columns are
refused before any row is read: a recursive view took 146 s and 10 GB of temporary
files), temporary storage stays in memory, a value may be at most ``MAX_DATA`` bytes,
and a progress handler aborts the read past ``ScanBudget.parse_seconds_max``.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from services.engine.budget import BudgetExceeded, ScanBudget
from services.engine.catalogers.interface import Cataloger, ParseResult
from services.engine.catalogers.problems import Problems
from services.engine.catalogers.rpm.header import MAX_DATA
from services.engine.catalogers.rpm.package import parse_blobs, rpm_to_package
from services.engine.requests import FileRequest

_MAGIC = b"SQLite format 3\x00"
_COPY_CHUNK = 1024 * 1024
_PROGRESS_STEPS = 10_000  # virtual-machine instructions between two checks of the clock
MAX_BYTES = 256 * 1024 * 1024


class _Refused(Exception):
    """The database's schema is not a plain ``Packages`` table."""


def _rows(path: str, cursor: sqlite3.Cursor, problems: Problems) -> Iterator[tuple[str, bytes]]:
    """``(label, blob)`` per row, fetched one at a time so only one header is in memory."""
    for hnum, blob in cursor:
        if not isinstance(blob, bytes):
            problems.append(f"{path}: header {hnum}: blob is {type(blob).__name__}, not bytes")
            continue
        yield f"header {hnum}", blob


def _harden(conn: sqlite3.Connection, deadline: float) -> None:
    """Settings that keep a hostile schema from running code or growing without bound."""
    conn.execute("PRAGMA trusted_schema=OFF")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-8192")  # KiB: at most 8 MiB of page cache
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_DATA)
    conn.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, 100)
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)


def _check_schema(conn: sqlite3.Connection) -> None:
    """Raise ``_Refused`` unless ``Packages`` is an ordinary table with stored columns only."""
    rows = conn.execute("SELECT type, sql FROM sqlite_master WHERE lower(name) = 'packages'").fetchall()
    if not rows:
        raise _Refused("no such table: Packages")
    kind, sql = rows[0]
    if kind != "table":
        raise _Refused(f"Packages is a {kind}, not a table")
    if not isinstance(sql, str) or not sql.lstrip().upper().startswith("CREATE TABLE"):
        raise _Refused("Packages is not an ordinary table")
    columns = conn.execute("PRAGMA table_xinfo(Packages)").fetchall()
    if any(hidden for _cid, _name, _type, _notnull, _default, _pk, hidden in columns):
        raise _Refused("Packages has generated or hidden columns")


def _read_db(path: str, db_file: Path, budget: ScanBudget) -> ParseResult:
    uri = f"{db_file.as_uri()}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        return ParseResult(problems=[f"{path}: cannot open as SQLite: {exc}"])
    problems = Problems(path)
    try:
        _harden(conn, time.monotonic() + budget.parse_seconds_max)
        _check_schema(conn)
        cursor = conn.execute("SELECT hnum, blob FROM Packages")
        return parse_blobs(path, _rows(path, cursor, problems), problems)
    except _Refused as exc:
        return ParseResult(problems=[*problems.items(), f"{path}: not an rpm database: {exc}"])
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            limit = budget.parse_seconds_max
            return ParseResult(
                problems=[*problems.items(), str(BudgetExceeded("parse_seconds_max", limit, path))]
            )
        return ParseResult(problems=[*problems.items(), f"{path}: not an rpm database: {exc}"])
    except sqlite3.Error as exc:
        return ParseResult(problems=[*problems.items(), f"{path}: not an rpm database: {exc}"])
    finally:
        conn.close()


def parse_rpmdb_sqlite_stream(path: str, stream: IO[bytes], budget: ScanBudget | None = None) -> ParseResult:
    """Parse an rpmdb.sqlite given as a seekable stream; unreadable input becomes a problem."""
    if stream.read(len(_MAGIC)) != _MAGIC:
        return ParseResult(problems=[f"{path}: not a SQLite database (bad magic)"])
    stream.seek(0)
    with tempfile.TemporaryDirectory(prefix="assay-rpmdb-") as tmp:
        db_file = Path(tmp) / "rpmdb.sqlite"
        with db_file.open("wb") as out:
            shutil.copyfileobj(stream, out, _COPY_CHUNK)
        return _read_db(path, db_file, budget if budget is not None else ScanBudget())


def parse_rpmdb_sqlite(path: str, data: bytes, budget: ScanBudget | None = None) -> ParseResult:
    """Parse an rpmdb.sqlite given as bytes (tests, small files)."""
    return parse_rpmdb_sqlite_stream(path, io.BytesIO(data), budget)


CATALOGER = Cataloger(
    name="rpmdb-sqlite",
    package_type="rpm",
    request=FileRequest(
        name="rpmdb-sqlite",
        patterns=("usr/lib/sysimage/rpm/rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite"),
        max_bytes=MAX_BYTES,
        shadowed=True,
        spool=True,
    ),
    parse=parse_rpmdb_sqlite,
    parse_stream=parse_rpmdb_sqlite_stream,
    to_package=rpm_to_package,
    tags=("os", "image", "directory"),
)
