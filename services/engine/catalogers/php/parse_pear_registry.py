"""Installed PECL extensions and PEAR packages: the registry ``pecl`` and ``pear`` keep in ``php/.registry/``.

Each file is one package as PHP ``serialize()`` wrote it: ``name``, ``channel``,
``version.release`` and ``license`` (a string, or ``_content`` with attributes). The
official PHP images install extensions with ``pecl install`` (``.registry/.channel.pecl.php.net/
redis.reg``) and carry PEAR itself (``.registry/pear.reg``). The purl type is ``pecl`` for
the PECL channel and ``pear`` otherwise: ``pkg:pecl/redis@6.0.2``.
"""

from __future__ import annotations

from typing import Any

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.php.phpserial import unserialize
from services.engine.requests import FileRequest


def _license(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("_content")
    return value.strip() if isinstance(value, str) else ""


def parse_pear_registry(path: str, data: bytes) -> ParseResult:
    """The package one registry file describes; a file that does not decode is a problem."""
    try:
        doc = unserialize(data)
    except ValueError as exc:
        return ParseResult(problems=[f"{path}: not a PEAR registry entry: {exc}"])
    version = doc.get("version") if isinstance(doc, dict) else None
    release = version.get("release") if isinstance(version, dict) else version
    name = doc.get("name") if isinstance(doc, dict) else None
    if not isinstance(name, str) or not name or not isinstance(release, str) or not release:
        return ParseResult(problems=[f"{path}: PEAR registry entry without name or version.release"])
    channel = str(doc.get("channel") or "")
    license_name = _license(doc.get("license"))
    return ParseResult(
        packages=[
            RawPackage(
                name=name,
                version=release,
                licenses=(license_name,) if license_name else (),
                metadata={"channel": channel} if channel else {},
            )
        ]
    )


def pear_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "pecl" if raw.metadata.get("channel") == "pecl.php.net" else "pear", location)


CATALOGER = Cataloger(
    name="php-pear-registry",
    package_type="pecl",
    request=FileRequest(name="php-pear-registry", patterns=("**/php/.registry/**/*.reg",), max_bytes=1 << 20),
    parse=parse_pear_registry,
    to_package=pear_to_package,
    tags=("language", "image", "directory"),
)
