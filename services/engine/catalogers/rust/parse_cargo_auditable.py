"""Rust binaries built with ``cargo auditable``: the dependency tree embedded in a ``.dep-v0`` section.

cargo-auditable (https://github.com/rust-secure-code/cargo-auditable) links a section named
``.dep-v0`` (ELF, PE; ``__DATA,.dep-v0`` on Mach-O) holding zlib-compressed JSON:
``{"packages": [{"name", "version", "source", "kind", "dependencies", "root"}, ...]}``.
``kind`` defaults to ``runtime``; as syft, build-time crates (``kind: build``) are left out,
since they are not in the binary. Only the section is read, by seeking; a binary without it
yields nothing and no problem. A section that does not inflate or decode is a problem.
"""

from __future__ import annotations

import io
import zlib
from typing import IO

import msgspec

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.rust.parse_cargo_lock import cargo_to_package
from services.engine.executable import ExecutableError, executable_request, read_at, read_executables

SECTION = ".dep-v0"
_MAX_COMPRESSED = 8 * 1024 * 1024
_MAX_JSON = 64 * 1024 * 1024  # inflated: a bound against zlib bombs


class AuditablePackage(msgspec.Struct, frozen=True):
    name: str
    version: str
    source: str = ""
    kind: str = "runtime"
    dependencies: list[int] = []
    root: bool = False


class AuditableInfo(msgspec.Struct, frozen=True):
    packages: list[AuditablePackage]


_DECODER = msgspec.json.Decoder(AuditableInfo)


def _section_bytes(stream: IO[bytes]) -> bytes | None:
    try:
        images = read_executables(stream)
    except ExecutableError:
        return None
    for exe in images:
        section = exe.section(SECTION)
        if section is not None and 0 < section.size <= _MAX_COMPRESSED:
            return read_at(stream, section.offset, section.size)
    return None


def parse_cargo_auditable_stream(path: str, stream: IO[bytes]) -> ParseResult:
    """Runtime crates of one binary given as a seekable stream; never raises on bad input."""
    try:
        raw = _section_bytes(stream)
    except ExecutableError as exc:
        return ParseResult(problems=[f"{path}: cannot read the {SECTION} section: {exc}"])
    if raw is None:
        return ParseResult()
    try:
        inflater = zlib.decompressobj()
        text = inflater.decompress(raw, _MAX_JSON)
        if inflater.unconsumed_tail:
            return ParseResult(problems=[f"{path}: {SECTION} inflates past {_MAX_JSON} bytes"])
        info = _DECODER.decode(text)
    except zlib.error as exc:
        return ParseResult(problems=[f"{path}: {SECTION} is not zlib data: {exc}"])
    except msgspec.DecodeError as exc:
        return ParseResult(problems=[f"{path}: {SECTION} is not cargo-auditable JSON: {exc}"])
    packages = [
        RawPackage(name=p.name, version=p.version, metadata={"source": p.source} if p.source else {})
        for p in info.packages
        if p.kind == "runtime" and p.name and p.version
    ]
    return ParseResult(packages=packages)


def parse_cargo_auditable(path: str, data: bytes) -> ParseResult:
    """The same as ``parse_cargo_auditable_stream`` for a binary already in memory."""
    return parse_cargo_auditable_stream(path, io.BytesIO(data))


CATALOGER = Cataloger(
    name="cargo-auditable-binary",
    package_type="cargo",
    request=executable_request("cargo-auditable-binary"),
    parse=parse_cargo_auditable,
    parse_stream=parse_cargo_auditable_stream,
    to_package=cargo_to_package,  # the same purl as a Cargo.lock entry
    tags=("language", "image", "directory"),
)
