"""Just enough of ELF, PE and Mach-O to find sections and map addresses, read by seeking.

Binary catalogers (Go build info, cargo-auditable) need a section's file offset, the start
of the writable data, and for old Go binaries the file offset of a virtual address. Only the
headers and the section/segment tables are read, each under a size cap, so a 500 MB binary
costs a few kilobytes. Anything inconsistent raises ``ExecutableError``; callers treat that
as "not an executable they can read".
"""

from __future__ import annotations

import struct
from typing import IO

import msgspec

from services.engine.requests import FileRequest

_MAX_TABLE = 4 * 1024 * 1024  # section/segment tables and load commands larger than this are not real
_MAX_FAT_ARCHES = 32  # more "architectures" than this: a Java class file (same magic), not a fat binary

ELF_MAGIC = b"\x7fELF"
PE_MAGIC = b"MZ"
MACHO_MAGICS = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
FAT_MAGIC = b"\xca\xfe\xba\xbe"
ALL_MAGICS = (ELF_MAGIC, PE_MAGIC, *MACHO_MAGICS, FAT_MAGIC)


class ExecutableError(ValueError):
    """The file is not an ELF, PE or Mach-O file, or its headers do not hold together."""


class Section(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    offset: int  # in the file
    size: int  # bytes in the file
    addr: int  # virtual address
    segment: str = ""  # Mach-O: the segment holding the section


class Segment(msgspec.Struct, frozen=True, kw_only=True):
    vaddr: int
    offset: int
    filesz: int
    writable: bool
    executable: bool
    name: str = ""


class Executable(msgspec.Struct, frozen=True, kw_only=True):
    """One executable image (one slice of a Mach-O universal binary); offsets are file offsets."""

    format: str  # "elf", "pe", "macho"
    little_endian: bool
    ptr_size: int
    sections: list[Section]
    segments: list[Segment]

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)

    def offset_of(self, vaddr: int) -> int | None:
        """The file offset holding virtual address ``vaddr``, if some segment maps it from the file."""
        for seg in self.segments:
            if seg.vaddr <= vaddr < seg.vaddr + seg.filesz:
                return seg.offset + (vaddr - seg.vaddr)
        return None


# past any real file, and below what seek() accepts (a header claiming 2**64 - 16 raised OverflowError)
_MAX_OFFSET = 2**62


def read_at(f: IO[bytes], offset: int, size: int) -> bytes:
    """Exactly ``size`` bytes at ``offset``; ``ExecutableError`` if the file ends first."""
    if offset < 0 or size < 0 or offset > _MAX_OFFSET:
        raise ExecutableError(f"bad offset {offset} or size {size}")
    f.seek(offset)
    data = f.read(size)
    if len(data) != size:
        raise ExecutableError(f"file ends before offset {offset + size}")
    return data


def _table(f: IO[bytes], offset: int, size: int) -> bytes:
    if size > _MAX_TABLE:
        raise ExecutableError(f"header table of {size} bytes")
    return read_at(f, offset, size)


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1")


def _elf(f: IO[bytes], base: int) -> Executable:
    ident = read_at(f, base, 16)
    if ident[4] not in (1, 2) or ident[5] not in (1, 2):
        raise ExecutableError("bad ELF class or data encoding")
    wide = ident[4] == 2
    e = "<" if ident[5] == 1 else ">"
    if wide:
        fields = struct.unpack(e + "HHIQQQIHHHHHH", read_at(f, base + 16, 48))
    else:
        fields = struct.unpack(e + "HHIIIIIHHHHHH", read_at(f, base + 16, 36))
    _, _, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, shstrndx = fields
    segments: list[Segment] = []
    if phnum:
        table = _table(f, base + phoff, phnum * phentsize)
        for i in range(phnum):
            raw = table[i * phentsize : (i + 1) * phentsize]
            if wide:
                ptype, flags, off, vaddr, _, filesz = struct.unpack(e + "IIQQQQ", raw[:40])
            else:
                ptype, off, vaddr, _, filesz, _, flags = struct.unpack(e + "IIIIIII", raw[:28])
            if ptype == 1:  # PT_LOAD
                segments.append(
                    Segment(
                        vaddr=vaddr,
                        offset=base + off,
                        filesz=filesz,
                        writable=bool(flags & 2),
                        executable=bool(flags & 1),
                    )
                )
    sections: list[Section] = []
    if shnum and shstrndx < shnum:
        table = _table(f, base + shoff, shnum * shentsize)
        headers = []
        for i in range(shnum):
            raw = table[i * shentsize : (i + 1) * shentsize]
            if wide:
                name, _, _, addr, off, size = struct.unpack(e + "IIQQQQ", raw[:40])
            else:
                name, _, _, addr, off, size = struct.unpack(e + "IIIIII", raw[:24])
            headers.append((name, addr, off, size))
        _, _, str_off, str_size = headers[shstrndx]
        names = _table(f, base + str_off, str_size)
        for name, addr, off, size in headers:
            sections.append(Section(name=_cstr(names[name:]), offset=base + off, size=size, addr=addr))
    return Executable(
        format="elf", little_endian=e == "<", ptr_size=8 if wide else 4, sections=sections, segments=segments
    )


def _pe(f: IO[bytes], base: int) -> Executable:
    (lfanew,) = struct.unpack("<I", read_at(f, base + 0x3C, 4))
    if read_at(f, base + lfanew, 4) != b"PE\0\0":
        raise ExecutableError("no PE signature")
    _, nsections, _, _, _, opt_size, _ = struct.unpack("<HHIIIHH", read_at(f, base + lfanew + 4, 20))
    opt = read_at(f, base + lfanew + 24, opt_size)
    (magic,) = struct.unpack("<H", opt[:2])
    if magic == 0x10B:
        (image_base,), ptr = struct.unpack("<I", opt[28:32]), 4
    elif magic == 0x20B:
        (image_base,), ptr = struct.unpack("<Q", opt[24:32]), 8
    else:
        raise ExecutableError(f"unknown PE optional header magic {magic:#x}")
    table = _table(f, base + lfanew + 24 + opt_size, nsections * 40)
    sections: list[Section] = []
    segments: list[Segment] = []
    for i in range(nsections):
        raw = table[i * 40 : (i + 1) * 40]
        vsize, vaddr, raw_size, raw_off = struct.unpack("<IIII", raw[8:24])
        (chars,) = struct.unpack("<I", raw[36:40])
        size = min(vsize, raw_size) if vsize else raw_size
        addr = image_base + vaddr
        sections.append(Section(name=_cstr(raw[:8]), offset=base + raw_off, size=size, addr=addr))
        segments.append(
            Segment(
                vaddr=addr,
                offset=base + raw_off,
                filesz=size,
                writable=bool(chars & 0x80000000),
                executable=bool(chars & 0x20000000),
                name=_cstr(raw[:8]),
            )
        )
    return Executable(format="pe", little_endian=True, ptr_size=ptr, sections=sections, segments=segments)


def _macho(f: IO[bytes], base: int) -> Executable:
    magic = read_at(f, base, 4)
    e = "<" if magic in (b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe") else ">"
    wide = magic in (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf")
    _, _, _, ncmds, sizeofcmds, _ = struct.unpack(e + "iiIIII", read_at(f, base + 4, 24))
    cmds = _table(f, base + (32 if wide else 28), sizeofcmds)
    sections: list[Section] = []
    segments: list[Segment] = []
    pos = 0
    for _ in range(ncmds):
        if pos + 8 > len(cmds):
            raise ExecutableError("load commands run past sizeofcmds")
        cmd, size = struct.unpack(e + "II", cmds[pos : pos + 8])
        if size < 8:
            raise ExecutableError("load command smaller than its header")
        body = cmds[pos : pos + size]
        if cmd in (0x1, 0x19):  # LC_SEGMENT, LC_SEGMENT_64
            seg64 = cmd == 0x19
            head = struct.Struct(e + ("16sQQQQiiII" if seg64 else "16sIIIIiiII"))
            segname, vaddr, _, fileoff, filesize, maxprot, initprot, nsects, _ = head.unpack(
                body[8 : 8 + head.size]
            )
            name = _cstr(segname)
            segments.append(
                Segment(
                    vaddr=vaddr,
                    offset=base + fileoff,
                    filesz=filesize,
                    writable=bool(initprot & 2) and bool(maxprot & 2) and not initprot & 4,
                    executable=bool(initprot & 4),
                    name=name,
                )
            )
            sect = struct.Struct(e + ("16s16sQQI" if seg64 else "16s16sIII"))
            sect_size = 80 if seg64 else 68
            at = 8 + head.size
            for _ in range(nsects):
                sectname, owner, addr, ssize, soff = sect.unpack(body[at : at + sect.size])
                sections.append(
                    Section(
                        name=_cstr(sectname), segment=_cstr(owner), offset=base + soff, size=ssize, addr=addr
                    )
                )
                at += sect_size
        pos += size
    return Executable(
        format="macho",
        little_endian=e == "<",
        ptr_size=8 if wide else 4,
        sections=sections,
        segments=segments,
    )


def _fat(f: IO[bytes]) -> list[Executable]:
    (count,) = struct.unpack(">I", read_at(f, 4, 4))
    if not 0 < count <= _MAX_FAT_ARCHES:
        raise ExecutableError("not a Mach-O universal binary")
    out: list[Executable] = []
    for i in range(count):
        _, _, offset, _, _ = struct.unpack(">iiIII", read_at(f, 8 + 20 * i, 20))
        if read_at(f, offset, 4) not in MACHO_MAGICS:
            raise ExecutableError(f"universal binary slice {i} is not Mach-O")
        out.append(_macho(f, offset))
    return out


def read_executables(f: IO[bytes]) -> list[Executable]:
    """The executable images in ``f``: one, or one per slice of a universal binary.

    Raises ``ExecutableError`` (or ``struct.error`` turned into it) for anything else.
    """
    try:
        magic = read_at(f, 0, 4)
        if magic == ELF_MAGIC:
            return [_elf(f, 0)]
        if magic[:2] == PE_MAGIC:
            return [_pe(f, 0)]
        if magic in MACHO_MAGICS:
            return [_macho(f, 0)]
        if magic == FAT_MAGIC:
            return _fat(f)
    except (struct.error, IndexError, OSError) as exc:
        raise ExecutableError(f"unreadable executable headers: {exc}") from exc
    raise ExecutableError("not an ELF, PE or Mach-O file")


def executable_request(name: str) -> FileRequest:
    """The walk request of a binary cataloger: every executable file with an ELF, PE or Mach-O header.

    Spooled (constant memory) up to 512 MiB; larger executables are skipped without an unknown
    each, since they are common and rarely carry build metadata. Catalogers asking with the
    same shape share one read of each file.
    """
    return FileRequest(
        name=name,
        patterns=("**",),
        max_bytes=512 * 1024 * 1024,
        executable=True,
        magic=ALL_MAGICS,
        spool=True,
        report_oversize=False,
    )


__all__ = [
    "ALL_MAGICS",
    "Executable",
    "ExecutableError",
    "Section",
    "Segment",
    "executable_request",
    "read_at",
    "read_executables",
]
