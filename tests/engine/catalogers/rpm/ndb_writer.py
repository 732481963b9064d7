"""Write an rpm NDB ``Packages.db`` from the header blobs of an rpmdb.sqlite, laid out as rpm does.

Debian's rpm 4.18 has no NDB backend, so the NDB test fixture is built by this script from real
headers, following rpm's lib/backend/ndb/rpmpkg.c: a 32-byte header (``RpmP``, version 0,
generation, slot page count, 4 reserved words), slot pages of 256 16-byte slots (``Slot``,
package index, block offset, block count; the header fills the first two), then per package a
16-byte-block-aligned blob: ``BlbS``, package index, Adler-32, length, the header blob, and a
12-byte tail (Adler-32, length, ``BlbE``).

    python3 ndb_writer.py rpmdb.sqlite Packages.db
"""

from __future__ import annotations

import sqlite3
import struct
import sys
import zlib

BLOCK = 16
PAGE = 4096


def ndb_bytes(blobs: list[tuple[int, bytes]], slot_pages: int = 1) -> bytes:
    """The bytes of an NDB file holding ``(package index, header blob)`` pairs."""
    slots_total = slot_pages * PAGE // 16 - 2
    out = bytearray(slot_pages * PAGE)
    struct.pack_into("<IIII", out, 0, int.from_bytes(b"RpmP", "little"), 0, 1, slot_pages)
    slot_magic = int.from_bytes(b"Slot", "little")
    for i in range(slots_total):
        struct.pack_into("<IIII", out, 32 + 16 * i, slot_magic, 0, 0, 0)
    for i, (pkg, blob) in enumerate(blobs):
        cksum = zlib.adler32(blob)
        record = struct.pack("<IIII", int.from_bytes(b"BlbS", "little"), pkg, cksum, len(blob)) + blob
        record += bytes(-(len(record) + 12) % BLOCK)
        record += struct.pack("<III", cksum, len(blob), int.from_bytes(b"BlbE", "little"))
        offset = len(out) // BLOCK
        struct.pack_into("<IIII", out, 32 + 16 * i, slot_magic, pkg, offset, len(record) // BLOCK)
        out += record
    return bytes(out)


def main() -> None:
    rows = sqlite3.connect(sys.argv[1]).execute("select hnum, blob from Packages order by hnum").fetchall()
    with open(sys.argv[2], "wb") as f:
        f.write(ndb_bytes([(hnum, bytes(blob)) for hnum, blob in rows]))


if __name__ == "__main__":
    main()
