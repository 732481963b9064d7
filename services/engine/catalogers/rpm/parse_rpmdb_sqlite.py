"""rpm's SQLite database (rpm >= 4.16: RHEL 9, Fedora 33+, Amazon Linux 2023): ``rpmdb.sqlite``.

The table ``Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`` holds one header blob per
installed package. RHEL 9 keeps the file in ``/usr/lib/sysimage/rpm`` and makes
``/var/lib/rpm`` a symlink to it; the layer walk does not follow symlinks, so both paths are
requested. The walk hands the file over as a stream; SQLite needs a file name, so the stream
is copied into a private temporary directory and opened read-only and ``immutable`` (no
journal, WAL or lock files are created or read beside it).
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from services.engine.catalogers.interface import Cataloger, ParseResult
from services.engine.catalogers.rpm.package import parse_blobs, rpm_to_package
from services.engine.requests import FileRequest

_MAGIC = b"SQLite format 3\x00"
_COPY_CHUNK = 1024 * 1024
MAX_BYTES = 256 * 1024 * 1024


def _rows(path: str, cursor: sqlite3.Cursor, problems: list[str]) -> Iterator[tuple[str, bytes]]:
    """``(label, blob)`` per row, fetched one at a time so only one header is in memory."""
    for hnum, blob in cursor:
        if not isinstance(blob, bytes):
            problems.append(f"{path}: header {hnum}: blob is {type(blob).__name__}, not bytes")
            continue
        yield f"header {hnum}", blob


def _read_db(path: str, db_file: Path) -> ParseResult:
    uri = f"{db_file.as_uri()}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        return ParseResult(problems=[f"{path}: cannot open as SQLite: {exc}"])
    problems: list[str] = []
    try:
        cursor = conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum")
        return parse_blobs(path, _rows(path, cursor, problems), problems)
    except sqlite3.Error as exc:
        return ParseResult(problems=[*problems, f"{path}: not an rpm database: {exc}"])
    finally:
        conn.close()


def parse_rpmdb_sqlite_stream(path: str, stream: IO[bytes]) -> ParseResult:
    """Parse an rpmdb.sqlite given as a seekable stream; unreadable input becomes a problem."""
    if stream.read(len(_MAGIC)) != _MAGIC:
        return ParseResult(problems=[f"{path}: not a SQLite database (bad magic)"])
    stream.seek(0)
    with tempfile.TemporaryDirectory(prefix="assay-rpmdb-") as tmp:
        db_file = Path(tmp) / "rpmdb.sqlite"
        with db_file.open("wb") as out:
            shutil.copyfileobj(stream, out, _COPY_CHUNK)
        return _read_db(path, db_file)


def parse_rpmdb_sqlite(path: str, data: bytes) -> ParseResult:
    """Parse an rpmdb.sqlite given as bytes (tests, small files)."""
    return parse_rpmdb_sqlite_stream(path, io.BytesIO(data))


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
