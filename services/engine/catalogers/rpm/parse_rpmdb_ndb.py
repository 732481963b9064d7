"""rpm's "new database" (NDB, SUSE since SLES 15 SP3 / openSUSE): ``Packages.db``.

The format (rpm's ``lib/backend/ndb/rpmpkg.c``; go-rpmdb's ``pkg/ndb`` reads it for syft),
all little-endian u32s:

- a 32-byte header: magic ``RpmP``, format version 0, generation, the number of 4 KiB slot
  pages, four reserved words;
- right after it, the slots (16 bytes each; the header takes the first two of page one):
  magic ``Slot``, package index (0: free slot), block offset and block count, where a
  block is 16 bytes;
- at ``block offset * 16``, a blob header: magic ``BlbS``, package index, Adler-32 checksum,
  blob length; then the header blob itself (the checksum is not verified here).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import IO

from services.engine.catalogers.interface import Cataloger, ParseResult
from services.engine.catalogers.problems import Problems
from services.engine.catalogers.rpm.header import MAX_DATA
from services.engine.catalogers.rpm.package import parse_blobs, rpm_to_package, within_file
from services.engine.requests import FileRequest

HEADER_MAGIC = int.from_bytes(b"RpmP", "little")
SLOT_MAGIC = int.from_bytes(b"Slot", "little")
BLOB_MAGIC = int.from_bytes(b"BlbS", "little")
BLOCK = 16
SLOTS_PER_PAGE = 4096 // 16
MAX_SLOT_PAGES = 2048  # go-rpmdb's sanity limit: 524k packages
MAX_BYTES = 256 * 1024 * 1024


def _blobs(
    path: str, stream: IO[bytes], slots: list[tuple[int, int, int, int]], size: int, problems: Problems
) -> Iterator[tuple[str, bytes]]:
    for magic, pkg, offset, _count in slots:
        if magic != SLOT_MAGIC:
            problems.append(f"{path}: bad slot magic {magic:#x}; stopped reading slots")
            return
        if pkg == 0:
            continue
        label = f"package {pkg}"
        start = offset * BLOCK
        if start + 16 > size:
            problems.append(f"{path}: {label}: blob offset {start} is outside the {size}-byte file")
            continue
        stream.seek(start)
        blob_magic, blob_pkg, _cksum, length = struct.unpack("<IIII", stream.read(16))
        if blob_magic != BLOB_MAGIC:
            problems.append(f"{path}: {label}: bad blob magic {blob_magic:#x}")
            continue
        if blob_pkg != pkg:
            problems.append(f"{path}: {label}: its blob belongs to package {blob_pkg}")
            continue
        if length > MAX_DATA or start + 16 + length > size:
            problems.append(f"{path}: {label}: blob of {length} bytes overruns the {size}-byte file")
            continue
        yield label, stream.read(length)


def parse_rpmdb_ndb_stream(path: str, stream: IO[bytes]) -> ParseResult:
    """Parse an NDB ``Packages.db`` given as a seekable stream."""
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    head = stream.read(32)
    if len(head) < 32:
        return ParseResult(problems=[f"{path}: file is {len(head)} bytes, too short for an NDB header"])
    magic, version, _generation, npages = struct.unpack_from("<IIII", head)
    if magic != HEADER_MAGIC:
        return ParseResult(problems=[f"{path}: not an rpm NDB database (bad magic)"])
    if version != 0:
        return ParseResult(problems=[f"{path}: unsupported NDB version {version}"])
    if not 0 < npages <= MAX_SLOT_PAGES:
        return ParseResult(problems=[f"{path}: NDB header claims {npages} slot pages"])
    count = npages * SLOTS_PER_PAGE - 2
    raw = stream.read(count * 16)
    problems = Problems(path)
    if len(raw) < count * 16:
        problems.append(f"{path}: slot pages truncated ({len(raw)} of {count * 16} bytes)")
        count = len(raw) // 16
    slots = [struct.unpack_from("<IIII", raw, 16 * i) for i in range(count)]
    return parse_blobs(
        path, within_file(path, _blobs(path, stream, slots, size, problems), size, problems), problems
    )


def parse_rpmdb_ndb(path: str, data: bytes) -> ParseResult:
    """Parse an NDB ``Packages.db`` given as bytes (tests, small files)."""
    return parse_rpmdb_ndb_stream(path, io.BytesIO(data))


CATALOGER = Cataloger(
    name="rpmdb-ndb",
    package_type="rpm",
    request=FileRequest(
        name="rpmdb-ndb",
        patterns=("var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/Packages.db"),
        max_bytes=MAX_BYTES,
        shadowed=True,
        spool=True,
    ),
    parse=parse_rpmdb_ndb,
    parse_stream=parse_rpmdb_ndb_stream,
    to_package=rpm_to_package,
    tags=("os", "image", "directory"),
)
