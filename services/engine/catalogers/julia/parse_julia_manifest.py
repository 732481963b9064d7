"""Declared Julia dependencies: ``Manifest.toml`` (format 1.0 and 2.0, ``Manifest-v1.x.toml`` too).

Format 2.0 keeps every package under ``[[deps.<Name>]]``; format 1.0 under top-level
``[[<Name>]]`` tables. Registered packages carry ``version`` and ``uuid``; standard library
packages carry no version (they come with Julia) and are left out. The purl is
``pkg:julia/<Name>@<version>?uuid=<uuid>``, as Trivy writes it.
"""

from __future__ import annotations

import tomllib
from typing import Any

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest


def _tables(doc: dict[str, Any]) -> dict[str, Any]:
    deps = doc.get("deps")
    if isinstance(deps, dict) and "manifest_format" in doc:
        return deps
    return {k: v for k, v in doc.items() if isinstance(v, list)}


def parse_julia_manifest(path: str, data: bytes) -> ParseResult:
    """Registered packages with a version; a file that is not TOML is a problem."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return ParseResult(problems=[f"{path}: not a valid Manifest.toml: {exc}"])
    packages: list[RawPackage] = []
    problems: list[str] = []
    for name, entries in _tables(doc).items():
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, dict):
                problems.append(f"{path}: package {name!r} is not a table")
                continue
            version = entry.get("version")
            if not isinstance(version, str) or not version:
                continue  # a standard library package
            uuid = entry.get("uuid")
            metadata = {"uuid": uuid} if isinstance(uuid, str) else {}
            packages.append(RawPackage(name=name, version=version, declared=True, metadata=metadata))
    return ParseResult(packages=packages, problems=problems)


def julia_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "julia", location, qualifiers={"uuid": raw.metadata.get("uuid", "")})


CATALOGER = Cataloger(
    name="julia-manifest",
    package_type="julia",
    request=FileRequest(
        name="julia-manifest", patterns=("**/Manifest.toml", "**/Manifest-v*.toml"), max_bytes=16 << 20
    ),
    parse=parse_julia_manifest,
    to_package=julia_to_package,
    tags=("language", "image", "directory", "declared"),
)
