"""The dpkg cataloger: the status database's parser, its raw-to-package step and its companions."""

from __future__ import annotations

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.debian.companions import COPYRIGHT, FILE_LISTS
from services.engine.catalogers.debian.parse_dpkg_status import parse_dpkg_status
from services.engine.catalogers.interface import Cataloger, RawPackage
from services.engine.purl import build_purl, os_qualifiers
from services.engine.requests import FileRequest


def dpkg_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """A purl-bearing deb package; the namespace is the distribution (debian, ubuntu, ...)."""
    namespace = distro.id if distro is not None and distro.id else "debian"
    qualifiers = os_qualifiers(distro, raw.arch)
    if raw.source_name and (raw.source_name != raw.name or raw.source_version != raw.version):
        upstream = raw.source_name
        if raw.source_version != raw.version:
            upstream += f"@{raw.source_version}"
        qualifiers["upstream"] = upstream
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="deb",
        purl=build_purl("deb", raw.name, raw.version, namespace=namespace, qualifiers=qualifiers),
        source_name=raw.source_name,
        source_version=raw.source_version,
        arch=raw.arch,
        locations=[location],
    )


CATALOGER = Cataloger(
    name="dpkg-status",
    package_type="deb",
    request=FileRequest(
        name="dpkg-status",
        patterns=("var/lib/dpkg/status", "var/lib/dpkg/status.d/*"),
        shadowed=True,
    ),
    parse=parse_dpkg_status,
    to_package=dpkg_to_package,
    tags=("os", "image", "directory"),
    companions=(FILE_LISTS, COPYRIGHT),
)
