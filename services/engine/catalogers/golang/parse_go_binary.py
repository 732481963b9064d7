"""Go build information in ELF, PE and Mach-O binaries, read without running them.

The Go linker writes a 32-byte header starting ``\\xff Go buildinf:`` at the start of the
``.go.buildinfo`` section (``__go_buildinfo`` on Mach-O), or, on older toolchains and PE,
within the first 64 KiB of the writable data (16-byte aligned); that is where Go's own
``debug/buildinfo`` looks, so only that window is read. Byte 14 is the pointer size and
byte 15 the flags: with flag 2 (Go 1.18+) the toolchain version and the module info
follow as varint-length strings; before, two pointers lead to Go string headers, whose
virtual addresses are mapped to file offsets through the segments.

The module info is ``runtime/debug.BuildInfo`` text: ``path``, ``mod`` (the main module),
``dep`` lines, each optionally followed by an ``=>`` replacement, and ``build`` settings.
As syft reports it: the main module, every dependency (the replacement's path and version
when replaced) and the toolchain as ``stdlib`` with version ``go1.x.y`` (without the
``X:boringcrypto`` experiment suffix a ``GOEXPERIMENT`` build appends). A module-less
(GOPATH-mode) build has a ``path`` but no ``mod`` line: only ``stdlib`` is known. A binary without
Go build info yields nothing and no problem; only damaged Go build info is a problem.
"""

from __future__ import annotations

import io
import re
import struct
from typing import IO

import msgspec

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.executable import (
    Executable,
    ExecutableError,
    executable_request,
    read_at,
    read_executables,
)
from services.engine.purl import build_purl

MAGIC = b"\xff Go buildinf:"
_HEADER = 32
_ALIGN = 16
_WINDOW = 64 * 1024  # as debug/buildinfo: the header sits in the first 64 KiB of the data
_MAX_STRING = 8 * 1024 * 1024  # version or module info longer than this is not real
_FLAG_BIG_ENDIAN = 1
_FLAG_INLINE = 2
_DEVEL = "(devel)"
_LDFLAGS_VERSION = re.compile(
    r"-X\s*=?\s*['\"]?[\w./-]*\.(?:[Vv]ersion|[Vv]er|gitTag)=['\"]?(v?\d+\.\d+\.\d+[\w.+-]*)"
)


class Module(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    version: str
    sum: str = ""
    replace: Module | None = None


class BuildInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What ``go version -m`` prints."""

    go_version: str
    path: str = ""
    main: Module | None = None
    deps: list[Module] = []
    settings: dict[str, str] = {}


class GoInfoError(ValueError):
    """Go build info was found but cannot be read."""


def _uvarint(f: IO[bytes], offset: int) -> tuple[int, int]:
    """A Go unsigned varint at ``offset``: (value, bytes used)."""
    value, shift, used = 0, 0, 0
    f.seek(offset)
    while True:
        raw = f.read(1)
        if not raw or used >= 10:
            raise GoInfoError("bad varint in build info")
        used += 1
        value |= (raw[0] & 0x7F) << shift
        if raw[0] < 0x80:
            return value, used
        shift += 7


def _find_header(f: IO[bytes], exe: Executable) -> int | None:
    """The file offset of the build info header, or None for a binary without one."""
    section = exe.section("__go_buildinfo" if exe.format == "macho" else ".go.buildinfo")
    if section is not None:
        start, size = section.offset, section.size
    else:
        data = next((s for s in exe.segments if s.writable and not s.executable and s.filesz), None)
        if data is None:
            return None
        start, size = data.offset, data.filesz
    f.seek(start)
    window = f.read(min(size, _WINDOW))
    at = window.find(MAGIC)
    while at >= 0:
        if at % _ALIGN == 0 and len(window) - at >= _HEADER:
            return start + at
        at = window.find(MAGIC, at + 1)
    return None


def _pointer_string(f: IO[bytes], exe: Executable, ptr_at: int, ptr_size: int, order: str) -> str:
    """A Go string reached through a pointer stored at file offset ``ptr_at`` (pre-1.18 layout)."""
    fmt = {4: "I", 8: "Q"}[ptr_size]
    (header_addr,) = struct.unpack(order + fmt, read_at(f, ptr_at, ptr_size))
    header_off = exe.offset_of(header_addr)
    if header_off is None:
        raise GoInfoError(f"build info string header at {header_addr:#x} is not in the file")
    data_addr, length = struct.unpack(order + fmt * 2, read_at(f, header_off, 2 * ptr_size))
    if length == 0:
        return ""
    data_off = exe.offset_of(data_addr)
    if data_off is None or length > _MAX_STRING:
        raise GoInfoError(f"build info string at {data_addr:#x} ({length} bytes) is not in the file")
    return read_at(f, data_off, length).decode("utf-8", errors="replace")


def _read_strings(f: IO[bytes], exe: Executable, header_at: int) -> tuple[str, str]:
    header = read_at(f, header_at, _HEADER)
    ptr_size, flags = header[14], header[15]
    if flags & _FLAG_INLINE:
        at = header_at + _HEADER
        out: list[str] = []
        for _ in range(2):
            length, used = _uvarint(f, at)
            if length > _MAX_STRING:
                raise GoInfoError(f"build info string of {length} bytes")
            out.append(read_at(f, at + used, length).decode("utf-8", errors="replace"))
            at += used + length
        return out[0], out[1]
    if ptr_size not in (4, 8):
        raise GoInfoError(f"build info pointer size {ptr_size}")
    order = ">" if flags & _FLAG_BIG_ENDIAN else "<"
    version = _pointer_string(f, exe, header_at + 16, ptr_size, order)
    modinfo = _pointer_string(f, exe, header_at + 16 + ptr_size, ptr_size, order)
    return version, modinfo


def _strip_sentinels(modinfo: str) -> str:
    """Module info is wrapped in 16-byte sentinels (cmd/go/internal/modload.ModInfoData)."""
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        return modinfo[16:-16]
    return modinfo


def parse_modinfo(go_version: str, text: str) -> BuildInfo:
    """``runtime/debug.ParseBuildInfo`` semantics; unknown lines are skipped."""
    path = ""
    main: Module | None = None
    deps: list[Module] = []
    settings: dict[str, str] = {}
    last: str = ""  # "mod" or "dep": what an "=>" line replaces
    for line in text.splitlines():
        fields = line.split("\t")
        kind = fields[0]
        if kind == "path" and len(fields) >= 2:
            path = fields[1]
        elif kind in ("mod", "dep") and len(fields) >= 3:
            mod = Module(path=fields[1], version=fields[2], sum=fields[3] if len(fields) > 3 else "")
            if kind == "mod":
                main = mod
            else:
                deps.append(mod)
            last = kind
        elif kind == "=>" and len(fields) >= 2 and last:
            repl = Module(
                path=fields[1],
                version=fields[2] if len(fields) > 2 else "",
                sum=fields[3] if len(fields) > 3 else "",
            )
            if last == "mod" and main is not None:
                main = msgspec.structs.replace(main, replace=repl)
            elif last == "dep" and deps:
                deps[-1] = msgspec.structs.replace(deps[-1], replace=repl)
            last = ""
        elif kind == "build" and len(fields) >= 2:
            key, _, value = fields[1].partition("=")
            settings[key] = value.strip('"')
    return BuildInfo(go_version=go_version, path=path, main=main, deps=deps, settings=settings)


def read_build_info(f: IO[bytes]) -> BuildInfo | None:
    """The build info of a Go binary; None when ``f`` is not a Go binary.

    Raises ``GoInfoError`` when a Go build info header is there but unreadable.
    """
    try:
        images = read_executables(f)
    except ExecutableError:
        return None
    for exe in images:
        try:
            header_at = _find_header(f, exe)
            if header_at is None:
                continue
            version, modinfo = _read_strings(f, exe, header_at)
        except ExecutableError as exc:
            raise GoInfoError(str(exc)) from exc
        if not version.startswith("go"):
            raise GoInfoError(f"build info toolchain version {version[:40]!r}")
        return parse_modinfo(version, _strip_sentinels(modinfo))
    return None


def _main_version(info: BuildInfo, main: Module) -> str:
    """syft's main-module version: as built, else from ``-ldflags -X ...version=``, else from VCS info."""
    if main.version and main.version != _DEVEL:
        return main.version
    found = _LDFLAGS_VERSION.search(info.settings.get("-ldflags", ""))
    if found:
        return found.group(1)
    revision, stamp = info.settings.get("vcs.revision", ""), info.settings.get("vcs.time", "")
    if revision and stamp:
        digits = re.sub(r"\D", "", stamp)[:14]
        if len(digits) == 14:
            return f"v0.0.0-{digits}-{revision[:12]}"
    return main.version or _DEVEL


def _raw(module: Module, version: str, info: BuildInfo) -> RawPackage:
    metadata = {"go_toolchain": info.go_version, "main_module": info.main.path if info.main else info.path}
    if module.sum:
        metadata["h1_digest"] = module.sum
    for key, name in (("GOARCH", "architecture"), ("GOOS", "os")):
        if info.settings.get(key):
            metadata[name] = info.settings[key]
    return RawPackage(name=module.path, version=version, metadata=metadata)


def packages_of(info: BuildInfo) -> list[RawPackage]:
    """Main module, dependencies with replacements applied, and ``stdlib``."""
    out: list[RawPackage] = []
    if info.main is not None and info.main.path:
        main = info.main.replace or info.main
        out.append(_raw(main, _main_version(info, main), info))
    for dep in info.deps:
        mod = dep.replace or dep
        if mod.path:  # old toolchains could list a module with no path
            out.append(_raw(mod, mod.version, info))
    toolchain = info.go_version.split()[0]  # "go1.22.1 X:boringcrypto" -> "go1.22.1"
    out.append(_raw(Module(path="stdlib", version=toolchain), toolchain, info))
    return out


def parse_go_binary_stream(path: str, stream: IO[bytes]) -> ParseResult:
    """Packages of one binary given as a seekable stream; never raises on bad input."""
    try:
        info = read_build_info(stream)
    except GoInfoError as exc:
        return ParseResult(problems=[f"{path}: unreadable Go build info: {exc}"])
    if info is None:
        return ParseResult()
    return ParseResult(packages=packages_of(info))


def parse_go_binary(path: str, data: bytes) -> ParseResult:
    """The same as ``parse_go_binary_stream`` for a binary already in memory."""
    return parse_go_binary_stream(path, io.BytesIO(data))


def go_binary_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:golang/<module path>@<version>``; stdlib as ``pkg:golang/stdlib@1.x.y`` (as syft)."""
    if raw.name == "stdlib":
        purl = build_purl("golang", "stdlib", raw.version.removeprefix("go"))
    else:
        namespace, _, name = raw.name.rpartition("/")
        purl = build_purl("golang", name, raw.version, namespace=namespace)
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="golang",
        purl=purl,
        locations=[location],
        metadata=dict(raw.metadata),
    )


CATALOGER = Cataloger(
    name="go-module-binary",
    package_type="golang",
    request=executable_request("go-module-binary"),
    parse=parse_go_binary,
    parse_stream=parse_go_binary_stream,
    to_package=go_binary_to_package,
    tags=("language", "image", "directory"),
)
