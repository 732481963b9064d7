"""rpm's Berkeley DB database (RHEL/CentOS 5-8, Amazon Linux 2): ``var/lib/rpm/Packages``.

A Berkeley DB *hash* file read by hand, page by page (libdb's ``dbinc/db_page.h``; the same
reading go-rpmdb's ``pkg/bdb`` does for syft and Trivy):

- page 0, the hash metadata page: magic ``0x061561`` at byte 12 (its byte order tells the
  file's), page size at 20, encryption at 24 (must be 0), page type 8 at 25, last page at 32;
- hash pages (type 13, or 2 "unsorted" on RHEL 5): a 26-byte header whose entry count is at
  20, then that many u16 offsets of items packed from the end of the page, as key/value
  pairs; an item is ``H_KEYDATA`` (1: the bytes follow inline) or ``H_OFFPAGE`` (3: the
  value lives on a chain of overflow pages, first page number at +4, total length at +8);
- overflow pages (type 7): next page number at 16, bytes used on the page at 22, data at 26.

Keys are header numbers (u32); key 0 is rpm's counter record, not a package. The file is
read through a seekable stream one page at a time, so memory stays at one header.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import IO

from services.engine.catalogers.interface import Cataloger, ParseResult
from services.engine.catalogers.problems import Problems
from services.engine.catalogers.rpm.package import parse_blobs, rpm_to_package, within_file
from services.engine.requests import FileRequest

HASH_MAGIC = 0x061561
_PAGE_SIZES = frozenset(1 << n for n in range(9, 17))  # 512 .. 65536
_HEADER = 26  # every page's header size
_P_HASH_UNSORTED, _P_OVERFLOW, _P_HASHMETA, _P_HASH = 2, 7, 8, 13
_H_KEYDATA, _H_OFFPAGE = 1, 3
MAX_BYTES = 256 * 1024 * 1024


class _BdbError(ValueError):
    pass


class _Pages:
    """Bounds-checked page reads of one Berkeley DB file."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        stream.seek(0, io.SEEK_END)
        self.file_size = stream.tell()
        stream.seek(0)
        meta = stream.read(512)
        if len(meta) < 72:
            raise _BdbError(f"file is {len(meta)} bytes, too short for a Berkeley DB metadata page")
        if struct.unpack_from("<I", meta, 12)[0] == HASH_MAGIC:
            self.order = "<"
        elif struct.unpack_from(">I", meta, 12)[0] == HASH_MAGIC:
            self.order = ">"
        else:
            raise _BdbError("not a Berkeley DB hash file (bad magic)")
        self.page_size, self.last_page = self.unpack("I", meta, 20)[0], self.unpack("I", meta, 32)[0]
        if self.page_size not in _PAGE_SIZES:
            raise _BdbError(f"unexpected page size {self.page_size}")
        if meta[24] != 0:
            raise _BdbError(f"encrypted database (algorithm {meta[24]})")
        if meta[25] != _P_HASHMETA:
            raise _BdbError(f"page 0 has type {meta[25]}, not a hash metadata page")

    def unpack(self, fmt: str, data: bytes, offset: int) -> tuple[int, ...]:
        return struct.unpack_from(self.order + fmt, data, offset)

    def page(self, number: int) -> bytes:
        if number > self.last_page:
            raise _BdbError(f"page {number} is past the last page {self.last_page}")
        self._stream.seek(number * self.page_size)
        data = self._stream.read(self.page_size)
        if len(data) != self.page_size:
            raise _BdbError(f"page {number} is truncated ({len(data)} of {self.page_size} bytes)")
        return data

    def overflow(self, first: int, total: int) -> bytes:
        """The ``total`` bytes stored on the overflow chain starting at page ``first``."""
        out = bytearray()
        number, seen = first, set()
        while number != 0 and len(out) < total:
            if number in seen:
                raise _BdbError(f"overflow chain loops at page {number}")
            seen.add(number)
            page = self.page(number)
            if page[25] != _P_OVERFLOW:
                raise _BdbError(f"page {number} in an overflow chain has type {page[25]}")
            next_page, used = self.unpack("I", page, 16)[0], self.unpack("H", page, 22)[0]
            if _HEADER + used > self.page_size:
                raise _BdbError(f"overflow page {number} claims {used} bytes")
            out += page[_HEADER : _HEADER + used]
            number = next_page
        if len(out) < total:
            raise _BdbError(f"overflow chain from page {first} holds {len(out)} of {total} bytes")
        return bytes(out[:total])


def _item(pages: _Pages, page: bytes, offsets: tuple[int, ...], index: int) -> bytes:
    """Item ``index`` of a hash page: inline bytes or the overflow chain it points to."""
    start = offsets[index]
    end = pages.page_size if index == 0 else offsets[index - 1]
    if not _HEADER <= start < end <= pages.page_size:
        raise _BdbError(f"item {index} spans bytes {start}..{end} of a {pages.page_size}-byte page")
    kind = page[start]
    if kind == _H_KEYDATA:
        return page[start + 1 : end]
    if kind == _H_OFFPAGE:
        if end - start < 12:
            raise _BdbError(f"item {index}: off-page reference is {end - start} bytes")
        first, total = pages.unpack("II", page, start + 4)
        return pages.overflow(first, total)
    raise _BdbError(f"item {index} has unsupported type {kind}")


def _records(path: str, pages: _Pages, problems: Problems) -> Iterator[tuple[str, bytes]]:
    """``(label, header blob)`` per record; unreadable pages and records become problems."""
    for number in range(1, pages.last_page + 1):
        try:
            page = pages.page(number)
        except _BdbError as exc:
            problems.append(f"{path}: {exc}")
            return
        if page[25] not in (_P_HASH, _P_HASH_UNSORTED):
            continue
        count = pages.unpack("H", page, 20)[0]
        if count % 2 or _HEADER + 2 * count > pages.page_size:
            problems.append(f"{path}: page {number}: bad entry count {count}")
            continue
        offsets = pages.unpack(f"{count}H", page, _HEADER)
        for pair in range(0, count, 2):
            label = f"page {number} record {pair // 2}"
            try:
                key = _item(pages, page, offsets, pair)
                if len(key) == 4:
                    hnum = struct.unpack("<I", key)[0] if pages.order == "<" else struct.unpack(">I", key)[0]
                    if hnum == 0:
                        continue
                    label = f"header {hnum}"
                value = _item(pages, page, offsets, pair + 1)
            except _BdbError as exc:
                problems.append(f"{path}: {label}: {exc}")
                continue
            yield label, value


def parse_rpmdb_bdb_stream(path: str, stream: IO[bytes]) -> ParseResult:
    """Parse a Berkeley DB ``Packages`` file given as a seekable stream."""
    try:
        pages = _Pages(stream)
    except _BdbError as exc:
        return ParseResult(problems=[f"{path}: {exc}"])
    problems = Problems(path)
    needed = (pages.last_page + 1) * pages.page_size
    if pages.file_size < needed:
        problems.append(f"{path}: file is {pages.file_size} bytes, its metadata says {needed}")
    records = within_file(path, _records(path, pages, problems), pages.file_size, problems)
    return parse_blobs(path, records, problems)


def parse_rpmdb_bdb(path: str, data: bytes) -> ParseResult:
    """Parse a Berkeley DB ``Packages`` file given as bytes (tests, small files)."""
    return parse_rpmdb_bdb_stream(path, io.BytesIO(data))


CATALOGER = Cataloger(
    name="rpmdb-bdb",
    package_type="rpm",
    request=FileRequest(
        name="rpmdb-bdb",
        patterns=("var/lib/rpm/Packages",),
        max_bytes=MAX_BYTES,
        shadowed=True,
        spool=True,
    ),
    parse=parse_rpmdb_bdb,
    parse_stream=parse_rpmdb_bdb_stream,
    to_package=rpm_to_package,
    tags=("os", "image", "directory"),
)
