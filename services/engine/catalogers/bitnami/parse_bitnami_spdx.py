"""Bitnami images: the SPDX document each Bitnami component ships, ``opt/bitnami/<app>/.spdx-<app>.spdx``.

Bitnami writes SPDX 2.x JSON listing the component and what it bundles, each package with
a ``purl`` external reference (``pkg:bitnami/redis@7.2.4-1?arch=amd64&distro=debian-12``,
or another type for bundled libraries). The reference is taken as written; a package
without one is left out (it names nothing a matcher can use). syft and Trivy both read these.
"""

from __future__ import annotations

from typing import Any

import msgspec
from packageurl import PackageURL

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import collect, plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import decode_json
from services.engine.requests import FileRequest


def _purl(package: dict[str, Any]) -> str:
    refs = package.get("externalRefs")
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and ref.get("referenceType") == "purl":
            return str(ref.get("referenceLocator") or "")
    return ""


def _package(path: str, package: Any) -> RawPackage | str | None:
    if not isinstance(package, dict):
        return f"{path}: SPDX package is not an object"
    purl = _purl(package)
    if not purl:
        return None
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError as exc:
        return f"{path}: package {package.get('name')!r}: bad purl {purl[:80]!r}: {exc}"
    version = str(package.get("versionInfo") or parsed.version or "")
    if not version:
        return f"{path}: package {package.get('name')!r} has no version"
    licenses = [package.get(k) for k in ("licenseConcluded", "licenseDeclared")]
    license_field = next(
        (x for x in licenses if isinstance(x, str) and x not in ("", "NOASSERTION", "NONE")), ""
    )
    return RawPackage(
        name=parsed.name,
        version=version,
        namespace=parsed.namespace or "",
        licenses=(license_field,) if license_field else (),
        metadata={"purl": purl, "type": parsed.type},
    )


def parse_bitnami_spdx(path: str, data: bytes) -> ParseResult:
    """Packages with a purl; a document that is not SPDX JSON, or a bad purl, is a problem."""
    doc, problem = decode_json(path, data, "SPDX")
    if problem:
        return ParseResult(problems=[problem])
    packages = doc.get("packages") if isinstance(doc, dict) else None
    if not isinstance(packages, list) or not str(doc.get("spdxVersion", "")).startswith("SPDX-"):
        return ParseResult(problems=[f"{path}: not an SPDX JSON document with packages"])
    return collect(_package(path, package) for package in packages)


def bitnami_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """The record of the purl Bitnami wrote (its type: ``bitnami`` or the bundled library's)."""
    metadata = dict(raw.metadata)
    purl, ptype = metadata.pop("purl"), metadata.pop("type")
    return plain_record(msgspec.structs.replace(raw, metadata=metadata), ptype, location, purl=purl)


CATALOGER = Cataloger(
    name="bitnami-spdx",
    package_type="bitnami",
    request=FileRequest(name="bitnami-spdx", patterns=("opt/bitnami/**/.spdx-*.spdx",), max_bytes=16 << 20),
    parse=parse_bitnami_spdx,
    to_package=bitnami_to_package,
    tags=("language", "image", "directory"),
)
