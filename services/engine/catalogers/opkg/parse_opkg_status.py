"""OpenWrt (and Yocto/OpenEmbedded) packages: opkg's status file, ``usr/lib/opkg/status``.

opkg writes the dpkg status format: blank-line separated stanzas of ``Package``,
``Version``, ``Depends``, ``Status`` (``install user installed``, ``install hold
installed``), ``Architecture`` and ``Installed-Time``, so the dpkg stanza reader is reused
and only installed stanzas are kept. The purl type is ``opkg`` with the distribution as
namespace (``pkg:opkg/openwrt/busybox@1.36.1-1?arch=x86_64&distro=openwrt-23.05.2``),
as osv-scalibr writes it. No advisory feed here covers OpenWrt, so these packages are
inventory (and a coverage gap), not matched.
"""

from __future__ import annotations

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.debian.parse_dpkg_status import parse_dpkg_status
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.purl import build_purl, os_qualifiers
from services.engine.requests import FileRequest


def parse_opkg_status(path: str, data: bytes) -> ParseResult:
    """Installed packages of an opkg status file; malformed stanzas are problems."""
    return parse_dpkg_status(path, data)


def opkg_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:opkg/<distro id>/<name>@<version>?arch=...&distro=...`` (``openwrt`` without os-release)."""
    namespace = distro.id if distro is not None and distro.id else "openwrt"
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="opkg",
        purl=build_purl(
            "opkg", raw.name, raw.version, namespace=namespace, qualifiers=os_qualifiers(distro, raw.arch)
        ),
        source_name=raw.source_name,
        source_version=raw.source_version,
        arch=raw.arch,
        locations=[location],
    )


CATALOGER = Cataloger(
    name="opkg-status",
    package_type="opkg",
    request=FileRequest(
        name="opkg-status",
        patterns=("usr/lib/opkg/status", "var/lib/opkg/status"),
        max_bytes=64 * 1024 * 1024,
    ),
    parse=parse_opkg_status,
    to_package=opkg_to_package,
    tags=("os", "image", "directory"),
)
