"""Shared helpers for the rpm parser tests: real header blobs from the fixtures, and a spec-shaped builder."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

HERE = Path(__file__).parent
TESTDATA = HERE / "testdata"
SQLITE_DB = "usr/lib/sysimage/rpm/rpmdb.sqlite"
BDB_DB = "var/lib/rpm/Packages"
NDB_DB = "var/lib/rpm/Packages.db"

STRING, STRING_ARRAY, I18NSTRING, INT32 = 6, 8, 9, 4


def real_blobs() -> dict[str, bytes]:
    """Header blobs of the SQLite fixture (written by rpm 4.18), by package name."""
    conn = sqlite3.connect(f"{(TESTDATA / SQLITE_DB).as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        rows = conn.execute("SELECT blob FROM Packages").fetchall()
    finally:
        conn.close()
    out = {}
    for (blob,) in rows:
        name_end = bytes(blob).index(b"\x00", _first_string_offset(bytes(blob)))
        out[bytes(blob)[_first_string_offset(bytes(blob)) : name_end].decode()] = bytes(blob)
    return out


def _first_string_offset(blob: bytes) -> int:
    il = struct.unpack_from(">I", blob, 0)[0]
    for i in range(il):
        tag, _typ, offset, _count = struct.unpack_from(">IIII", blob, 8 + 16 * i)
        if tag == 1000:
            return 8 + 16 * il + offset
    raise AssertionError("no NAME tag")


def build_header(entries: list[tuple[int, int, object]]) -> bytes:
    """A header blob laid out as rpm's headerExport does, from (tag, type, str / list[str] / list[int])."""
    index = b""
    data = b""
    for tag, typ, value in entries:
        if typ == INT32:
            assert isinstance(value, list)
            data += bytes(-len(data) % 4)
            offset = len(data)
            data += struct.pack(f">{len(value)}I", *value)
            count = len(value)
        else:
            values = [value] if isinstance(value, str) else value
            assert isinstance(values, list)
            offset = len(data)
            data += b"".join(v.encode() + b"\x00" for v in values)
            count = len(values)
        index += struct.pack(">IIII", tag, typ, offset, count)
    return struct.pack(">II", len(entries), len(data)) + index + data
