"""Declared Rust dependencies: ``Cargo.lock`` (TOML, every crate Cargo resolved for a workspace).

A lockfile names what a build *would* use, so its crates are declared (syft tags its
Cargo.lock cataloger "declared"; binaries built with ``cargo auditable`` are the installed
evidence). ``[[package]]`` entries without a ``source`` are the workspace's own crates (the
root and path dependencies): reported as syft and Trivy report them, marked ``role:
workspace``, since they are what the image's application is. Registry and git crates keep
their source and checksum in the metadata.
"""

from __future__ import annotations

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.toml_lock import Entry, parse_package_tables
from services.engine.purl import build_purl
from services.engine.requests import FileRequest


def _crate(entry: Entry, name: str, version: str) -> RawPackage | None:
    source = entry.get("source")
    if not isinstance(source, str) or not source:
        return RawPackage(name=name, version=version, declared=True, metadata={"role": "workspace"})
    metadata = {"source": source}
    if isinstance(entry.get("checksum"), str):
        metadata["checksum"] = entry["checksum"]
    return RawPackage(name=name, version=version, declared=True, metadata=metadata)


def parse_cargo_lock(path: str, data: bytes) -> ParseResult:
    """Every crate; a file that is not TOML, or a crate without name or version, is a problem."""
    return parse_package_tables(path, data, "Cargo.lock", _crate)


def cargo_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:cargo/<name>@<version>``."""
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="cargo",
        purl=build_purl("cargo", raw.name, raw.version),
        locations=[location],
        declared=raw.declared,
        metadata=dict(raw.metadata),
    )


CATALOGER = Cataloger(
    name="rust-cargo-lock",
    package_type="cargo",
    request=FileRequest(name="rust-cargo-lock", patterns=("**/Cargo.lock",), max_bytes=16 * 1024 * 1024),
    parse=parse_cargo_lock,
    to_package=cargo_to_package,
    tags=("language", "image", "directory", "declared"),
)
