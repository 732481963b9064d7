"""Arch Linux (and Manjaro, SteamOS) packages: pacman's local database, ``var/lib/pacman/local/<pkg>/desc``.

Each installed package has a directory holding ``desc``: blocks of a ``%FIELD%`` line and its
values, one per line, up to a blank line (``%NAME%``, ``%VERSION%`` as ``[epoch:]pkgver-pkgrel``,
``%BASE%``, ``%ARCH%``, ``%LICENSE%``). The purl is syft's:
``pkg:alpm/<distro>/<name>@<version>?arch=...&upstream=<base>&distro=...``.
"""

from __future__ import annotations

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import os_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest


def _fields(text: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("%") and line.endswith("%") and len(line) > 2:
            current = line[1:-1]
            fields.setdefault(current, [])
        elif not line:
            current = ""
        elif current:
            fields[current].append(line)
    return fields


def parse_alpm_db(path: str, data: bytes) -> ParseResult:
    """The package one ``desc`` file describes; one without name or version is a problem."""
    fields = _fields(data.decode("utf-8", "replace"))
    name, version = (fields.get("NAME") or [""])[0], (fields.get("VERSION") or [""])[0]
    if not name or not version:
        return ParseResult(problems=[f"{path}: pacman desc without %NAME% or %VERSION%"])
    base = (fields.get("BASE") or [name])[0]
    pkgver = version.rsplit("-", 1)[0]
    return ParseResult(
        packages=[
            RawPackage(
                name=name,
                version=version,
                source_name=base,
                source_version=version,
                arch=(fields.get("ARCH") or [""])[0],
                licenses=tuple(fields.get("LICENSE") or ()),
                metadata={"pkgver": pkgver},
            )
        ]
    )


def alpm_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:alpm/<distro id>/<name>@<version>`` (``arch`` without os-release)."""
    return os_record(raw, distro, location, purl_type="alpm", default_namespace="arch")


CATALOGER = Cataloger(
    name="alpm-db",
    package_type="alpm",
    request=FileRequest(name="alpm-db", patterns=("var/lib/pacman/local/*/desc",), max_bytes=1 << 20),
    parse=parse_alpm_db,
    to_package=alpm_to_package,
    tags=("os", "image", "directory"),
)
