"""The version resource and CLI header of a PE file (.NET assembly), read without raising.

A PE file starts with a DOS header whose ``e_lfanew`` (offset 0x3C) points at ``PE\\0\\0``, the
COFF header and the optional header (PE32 or PE32+), whose data directories give the relative
virtual address (RVA) and size of, among others, the resource tree (entry 2) and the CLI header
(entry 14, ``IMAGE_COR20_HEADER``: ``cb``, then the runtime's major and minor version). RVAs map
to file offsets through the section table.

The resource tree (``.rsrc``) is three levels of directories (type, name, language); offsets
inside it are relative to its start, with the high bit marking a subdirectory (or, for a name,
a length-prefixed UTF-16 string). Type 16 (``RT_VERSION``) leads to ``VS_VERSIONINFO``: nested
blocks of ``wLength, wValueLength, wType, szKey`` (UTF-16, NUL-terminated, padded to 4 bytes),
a ``VS_FIXEDFILEINFO`` value, and ``StringFileInfo`` > string tables > ``Key = Value`` strings.

Every offset is checked against the file; only headers, the directory entries and the version
blocks are read (each bounded), so a large assembly costs a few kilobytes. Anything that does not
hold together is a ``PEError`` naming the reason, which ``read_pe_version`` returns, never raises.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import msgspec

ReadAt = Callable[[int, int], bytes]  # (offset, size) -> up to size bytes at offset

_RT_VERSION = 16
_DIR_RESOURCE = 2
_DIR_CLI = 14
_MAX_SECTIONS = 96  # the PE loader's own limit
_MAX_ENTRIES = 4096  # resource directory entries visited in one file
_MAX_DEPTH = 3  # type, name, language
_MAX_VERSION_BYTES = 64 * 1024  # VS_VERSIONINFO's wLength is a 16-bit count
_MAX_BLOCKS = 1024  # blocks read from one version resource
_FIXED_SIGNATURE = 0xFEEF04BD
_CLR_RESOURCE_PREFIX = "CLRDEBUGINFO"  # named resource of the runtime itself (coreclr.dll, clr.dll)


class PEError(ValueError):
    """The file is not a PE file, or its headers or resources do not hold together."""


class PEVersionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What a PE file says about itself."""

    clr: bool  # a CLI header with a runtime version, or the runtime's own debug resource
    strings: dict[str, str]  # StringFileInfo entries (first string table wins a repeated key)
    fixed_file_version: str = ""  # VS_FIXEDFILEINFO's file version, "a.b.c.d", when present
    # resource entries that could not be read (skipped, as syft skips them), for an assembly only
    resource_problems: list[str] = []


class _Section(msgspec.Struct, frozen=True):
    """A section header's VirtualSize, VirtualAddress, SizeOfRawData and PointerToRawData."""

    vsize: int
    rva: int
    raw_size: int
    offset: int


def _read(read_at: ReadAt, offset: int, size: int, what: str) -> bytes:
    if offset < 0:
        raise PEError(f"{what} at a negative offset")
    data = read_at(offset, size)
    if len(data) != size:
        raise PEError(f"file ends inside the {what} (offset {offset}, {size} bytes)")
    return data


class _Image:
    """The headers of one PE file and a reader of bytes by RVA."""

    def __init__(self, read_at: ReadAt) -> None:
        self.read_at = read_at
        if _read(read_at, 0, 2, "DOS header") != b"MZ":
            raise PEError("no MZ signature")
        (lfanew,) = struct.unpack("<I", _read(read_at, 0x3C, 4, "DOS header"))
        if _read(read_at, lfanew, 4, "PE signature") != b"PE\0\0":
            raise PEError("no PE signature at e_lfanew")
        _, nsections, _, _, _, opt_size, _ = struct.unpack(
            "<HHIIIHH", _read(read_at, lfanew + 4, 20, "COFF header")
        )
        if nsections > _MAX_SECTIONS:
            raise PEError(f"{nsections} sections")
        opt = _read(read_at, lfanew + 24, opt_size, "optional header")
        magic = struct.unpack("<H", opt[:2])[0] if len(opt) >= 2 else 0
        dirs_at = {0x10B: 96, 0x20B: 112}.get(magic)
        if dirs_at is None or len(opt) < dirs_at:
            raise PEError(f"unknown optional header (magic {magic:#x}, {opt_size} bytes)")
        (count,) = struct.unpack("<I", opt[dirs_at - 4 : dirs_at])
        count = min(count, (len(opt) - dirs_at) // 8)
        self.dirs = [struct.unpack("<II", opt[dirs_at + 8 * i : dirs_at + 8 * i + 8]) for i in range(count)]
        table = _read(read_at, lfanew + 24 + opt_size, 40 * nsections, "section table")
        self.sections = [
            _Section(*struct.unpack("<IIII", table[40 * i + 8 : 40 * i + 24])) for i in range(nsections)
        ]

    def directory(self, index: int) -> tuple[int, int]:
        """(RVA, size) of data directory ``index``; (0, 0) when absent."""
        return self.dirs[index] if index < len(self.dirs) else (0, 0)

    def offset_of(self, rva: int, size: int, what: str) -> int:
        """The file offset of ``size`` bytes at ``rva``, which one section must hold in the file."""
        for s in self.sections:
            span = s.vsize or s.raw_size
            if s.rva <= rva < s.rva + span:
                delta = rva - s.rva
                if delta + size > s.raw_size:
                    raise PEError(f"{what} (RVA {rva:#x}, {size} bytes) runs past its section's data")
                return s.offset + delta
        raise PEError(f"{what} (RVA {rva:#x}) is in no section")

    def read_rva(self, rva: int, size: int, what: str) -> bytes:
        return _read(self.read_at, self.offset_of(rva, size, what), size, what)


def _has_cli_header(image: _Image) -> bool:
    rva, size = image.directory(_DIR_CLI)
    if not rva or size < 8:
        return False
    cb, major, minor = struct.unpack("<IHH", image.read_rva(rva, 8, "CLI header"))
    return bool(cb and major and minor)  # as syft: a header naming a runtime version


class _Resources:
    """A walk over the resource tree, bounded in entries and depth, that never revisits a directory."""

    def __init__(self, image: _Image) -> None:
        self.image = image
        self.base, self.size = image.directory(_DIR_RESOURCE)
        self.visited: set[int] = set()
        self.entries = 0
        self.names: list[str] = []
        self.versions: list[bytes] = []
        self.problems: list[str] = []

    def read(self, offset: int, size: int, what: str) -> bytes:
        if offset < 0 or offset + size > self.size:
            raise PEError(f"{what} at {offset:#x} lies outside the resource directory")
        return self.image.read_rva(self.base + offset, size, what)

    def name(self, offset: int) -> str:
        (length,) = struct.unpack("<H", self.read(offset, 2, "resource name"))
        return self.read(offset + 2, 2 * length, "resource name").decode("utf-16-le", "replace")

    def walk(self, offset: int, depth: int, in_version: bool) -> None:
        if offset in self.visited or depth >= _MAX_DEPTH:
            raise PEError(f"resource directory at {offset:#x} loops or nests too deep")
        self.visited.add(offset)
        named, ids = struct.unpack("<HH", self.read(offset + 12, 4, "resource directory"))
        self.entries += named + ids
        if self.entries > _MAX_ENTRIES:
            raise PEError(f"more than {_MAX_ENTRIES} resource directory entries")
        table = self.read(offset + 16, 8 * (named + ids), "resource directory entries")
        for i in range(named + ids):
            try:
                name, target = struct.unpack("<II", table[8 * i : 8 * i + 8])
                self.entry(name, target, depth, in_version)
            except PEError as exc:  # skip the entry, keep the rest of the tree
                if self.entries > _MAX_ENTRIES:
                    raise
                self.problems.append(str(exc))

    def entry(self, name: int, target: int, depth: int, in_version: bool) -> None:
        if name & 0x80000000:
            self.names.append(self.name(name & 0x7FFFFFFF))
        version = in_version or (depth == 0 and not name & 0x80000000 and name == _RT_VERSION)
        if target & 0x80000000:
            self.walk(target & 0x7FFFFFFF, depth + 1, version)
        elif version:
            data_rva, data_size = struct.unpack("<II", self.read(target, 8, "resource data entry"))
            size = min(data_size, _MAX_VERSION_BYTES)
            self.versions.append(self.image.read_rva(data_rva, size, "version resource"))


def _utf16z(data: bytes, start: int, end: int) -> tuple[str, int]:
    """The NUL-terminated UTF-16 string at ``start`` (cut at ``end``) and the offset past its NUL."""
    pos = start
    while pos + 1 < end and data[pos : pos + 2] != b"\0\0":
        pos += 2
    return data[start:pos].decode("utf-16-le", "replace"), min(pos + 2, end)


def _align(offset: int) -> int:
    return (offset + 3) & ~3


def _blocks(data: bytes, start: int, end: int) -> list[tuple[str, int, int, int, int]]:
    """The blocks between ``start`` and ``end``: (key, value offset, wValueLength, wType, block end)."""
    out: list[tuple[str, int, int, int, int]] = []
    pos = start
    while pos + 6 <= end and len(out) < _MAX_BLOCKS:
        length, value_len, wtype = struct.unpack("<HHH", data[pos : pos + 6])
        if length < 6:
            break  # padding or garbage: nothing further can be framed
        block_end = min(pos + length, end)
        key, after = _utf16z(data, pos + 6, block_end)
        out.append((key, _align(after), value_len, wtype, block_end))
        pos = _align(pos + length)
    return out


def _fixed_version(data: bytes, at: int, value_len: int, end: int) -> str:
    if value_len < 52 or at + 52 > end:
        return ""
    signature, _, ms, ls = struct.unpack("<IIII", data[at : at + 16])
    if signature != _FIXED_SIGNATURE:
        return ""
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


def _parse_version(data: bytes, strings: dict[str, str]) -> str:
    """Add the strings of one VS_VERSIONINFO to ``strings``; its fixed file version, if any."""
    roots = _blocks(data, 0, len(data))
    if not roots or roots[0][0] != "VS_VERSION_INFO":
        return ""  # an RT_VERSION entry that is not a version block: nothing to read, as Windows does
    _, value_at, value_len, _, end = roots[0]
    fixed = _fixed_version(data, value_at, value_len, end)
    for key, child_at, child_len, _, child_end in _blocks(data, _align(value_at + value_len), end):
        if key != "StringFileInfo":
            continue  # VarFileInfo: translations only
        for _, table_at, _, _, table_end in _blocks(data, child_at + child_len, child_end):
            for name, value_at2, value_len2, _, string_end in _blocks(data, table_at, table_end):
                value = _utf16z(data, value_at2, string_end)[0] if value_len2 else ""
                strings.setdefault(name, value)
    return fixed


def _walk_resources(image: _Image) -> _Resources | PEError:
    resources = _Resources(image)
    try:
        if resources.base and resources.size:
            resources.walk(0, 0, False)
    except PEError as exc:
        return exc
    return resources


def read_pe_version(read_at: ReadAt) -> PEVersionInfo | PEError:
    """The CLR evidence and version strings of the PE file behind ``read_at``, or why they are unreadable.

    Headers that do not hold together are a ``PEError``. A resource entry that cannot be read is
    skipped and, for an assembly, named in ``resource_problems``; a native PE file (``clr=False``)
    gets no problems: whether it is well formed is not this reader's business.
    """
    try:
        image = _Image(read_at)
        cli = _has_cli_header(image)
        resources = _walk_resources(image)
        if isinstance(resources, PEError):
            return PEVersionInfo(clr=cli, strings={}, resource_problems=[str(resources)] if cli else [])
        clr = cli or any(n.upper().startswith(_CLR_RESOURCE_PREFIX) for n in resources.names)
        strings: dict[str, str] = {}
        fixed = ""
        for block in resources.versions:
            fixed = fixed or _parse_version(block, strings)
        problems = resources.problems if clr else []
        return PEVersionInfo(clr=clr, strings=strings, fixed_file_version=fixed, resource_problems=problems)
    except PEError as exc:
        return exc
    except (struct.error, ValueError, OverflowError, MemoryError, OSError) as exc:
        return PEError(f"unreadable PE structure: {type(exc).__name__}: {exc}")


__all__ = ["PEError", "PEVersionInfo", "ReadAt", "read_pe_version"]
