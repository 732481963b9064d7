"""An rpm header blob as the rpm database stores it, read without the rpm tool.

Every rpmdb backend (SQLite, Berkeley DB, NDB) stores one blob per installed package: the
header "immutable region" without the lead and magic of a package file. It is big-endian:

    il: u32   number of index entries
    dl: u32   length of the data store
    il x (tag: u32, type: u32, offset: u32, count: u32)
    dl bytes of data: strings NUL-terminated, integers aligned to their size

(rpm's lib/header.c; the tag numbers are rpmtag.h's). Every read is bounds-checked, so a
corrupt blob gives a ``HeaderError`` naming what was wrong, never an ``IndexError``.
"""

from __future__ import annotations

import struct

import msgspec

# tag numbers (rpmtag.h)
NAME = 1000
VERSION = 1001
RELEASE = 1002
EPOCH = 1003
VENDOR = 1011
LICENSE = 1014
ARCH = 1022
FILENAMES = 1027  # old-style (rpm < 4.1) full paths
SOURCERPM = 1044
DIRINDEXES = 1116
BASENAMES = 1117
DIRNAMES = 1118
MODULARITYLABEL = 5096

# tag types
_CHAR, _INT8, _INT16, _INT32, _INT64, _STRING, _BIN, _STRING_ARRAY, _I18NSTRING = 1, 2, 3, 4, 5, 6, 7, 8, 9
_INT_SIZE = {_CHAR: 1, _INT8: 1, _INT16: 2, _INT32: 4, _INT64: 8}
_INT_FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}

# rpm's own sanity limits (header_internal.h: HEADER_TAGS_MAX, HEADER_DATA_MAX)
MAX_ENTRIES = 0xFFFF
MAX_DATA = 256 * 1024 * 1024


class HeaderError(ValueError):
    """A header blob that cannot be read; the message says where and why."""


class RpmHeader(msgspec.Struct, frozen=True, kw_only=True):
    """The facts of one installed package that Assay uses."""

    name: str
    version: str
    release: str
    epoch: int | None = None
    arch: str = ""
    license: str = ""
    vendor: str = ""
    sourcerpm: str = ""
    modularitylabel: str = ""
    files: tuple[str, ...] = ()  # absolute paths as rpm records them


class _Entry(msgspec.Struct, frozen=True):
    type: int
    offset: int
    count: int


class _Reader:
    """Typed reads of one header's data store."""

    def __init__(self, blob: bytes) -> None:
        if len(blob) < 8:
            raise HeaderError(f"header is {len(blob)} bytes, shorter than its 8-byte preamble")
        il, dl = struct.unpack_from(">II", blob, 0)
        if il == 0 or il > MAX_ENTRIES:
            raise HeaderError(f"header claims {il} index entries")
        if dl > MAX_DATA:
            raise HeaderError(f"header claims a {dl}-byte data store")
        need = 8 + 16 * il + dl
        if need > len(blob):
            raise HeaderError(f"header needs {need} bytes ({il} entries, {dl} data) but has {len(blob)}")
        self._start = 8 + 16 * il
        self._data = bytes(blob[self._start : self._start + dl])
        self._entries: dict[int, _Entry] = {}
        for i in range(il):
            tag, typ, offset, count = struct.unpack_from(">IIII", blob, 8 + 16 * i)
            self._entries.setdefault(tag, _Entry(typ, offset, count))

    def _string_at(self, offset: int, tag: int) -> tuple[str, int]:
        """The NUL-terminated string at ``offset`` and the offset after its NUL."""
        data = self._data
        if offset >= len(data):
            raise HeaderError(f"tag {tag}: string offset {offset} is outside the {len(data)}-byte data store")
        end = data.find(b"\x00", offset)
        if end < 0:
            raise HeaderError(f"tag {tag}: string at offset {offset} has no terminating NUL")
        return data[offset:end].decode("utf-8", errors="replace"), end + 1

    def strings(self, tag: int) -> list[str]:
        """A STRING, STRING_ARRAY or I18NSTRING tag as a list (empty when absent)."""
        entry = self._entries.get(tag)
        if entry is None:
            return []
        if entry.type not in (_STRING, _STRING_ARRAY, _I18NSTRING):
            raise HeaderError(f"tag {tag}: type {entry.type} is not a string type")
        count = 1 if entry.type == _STRING else entry.count
        if count > len(self._data):
            raise HeaderError(f"tag {tag}: {count} strings cannot fit in {len(self._data)} bytes")
        out: list[str] = []
        offset = entry.offset
        for _ in range(count):
            value, offset = self._string_at(offset, tag)
            out.append(value)
        return out

    def string(self, tag: int) -> str:
        """The first string of a string tag ("" when absent): I18NSTRING's first is the C locale's."""
        values = self.strings(tag)
        return values[0] if values else ""

    def ints(self, tag: int) -> list[int]:
        """An integer-array tag (empty when absent)."""
        entry = self._entries.get(tag)
        if entry is None:
            return []
        size = _INT_SIZE.get(entry.type)
        if size is None:
            raise HeaderError(f"tag {tag}: type {entry.type} is not an integer type")
        end = entry.offset + size * entry.count
        if end > len(self._data):
            raise HeaderError(
                f"tag {tag}: {entry.count} integers at offset {entry.offset} overrun the data store"
            )
        return list(struct.unpack_from(f">{entry.count}{_INT_FMT[size]}", self._data, entry.offset))


def _files(reader: _Reader) -> tuple[str, ...]:
    basenames = reader.strings(BASENAMES)
    if not basenames:
        return tuple(reader.strings(FILENAMES))
    dirnames = reader.strings(DIRNAMES)
    indexes = reader.ints(DIRINDEXES)
    if len(indexes) != len(basenames):
        raise HeaderError(f"{len(basenames)} basenames but {len(indexes)} dirindexes")
    out: list[str] = []
    for base, index in zip(basenames, indexes, strict=True):
        if index >= len(dirnames):
            raise HeaderError(f"dirindex {index} is past the {len(dirnames)} dirnames")
        out.append(dirnames[index] + base)
    return tuple(out)


def parse_header(blob: bytes) -> RpmHeader:
    """Decode one header blob; raises ``HeaderError`` (only) when the blob is malformed or lacks a name."""
    reader = _Reader(blob)
    name = reader.string(NAME)
    if not name:
        raise HeaderError("no NAME tag")
    epochs = reader.ints(EPOCH)
    return RpmHeader(
        name=name,
        version=reader.string(VERSION),
        release=reader.string(RELEASE),
        epoch=epochs[0] if epochs else None,
        arch=reader.string(ARCH),
        license=reader.string(LICENSE),
        vendor=reader.string(VENDOR),
        sourcerpm=reader.string(SOURCERPM),
        modularitylabel=reader.string(MODULARITYLABEL),
        files=_files(reader),
    )
