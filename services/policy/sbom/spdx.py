"""SPDX 2.3 JSON SBOM, built and validated with spdx-tools (the SPDX project's own library).

The document DESCRIBES one package for the image; the image CONTAINS every package found
in it. Each package carries its purl as a PACKAGE-MANAGER external reference and its
declared license: an SPDX expression where the text is one, otherwise a ``LicenseRef-``
with the declared text kept in ``hasExtractedLicensingInfos`` (nothing is lost). A
language package installed by an OS package gets an ``OTHER`` relationship from the OS
package, commented ``ownership-by-file-overlap`` (syft's wording); packages named only by a
lockfile are ``filesAnalyzed: false`` with a comment saying they are declared, not
installed. The layer and the file each package was read from are in its comment.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime

from license_expression import ExpressionError, get_spdx_licensing  # type: ignore[import-untyped]
from spdx_tools.spdx.model.actor import Actor, ActorType
from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
from spdx_tools.spdx.model.document import CreationInfo, Document
from spdx_tools.spdx.model.extracted_licensing_info import ExtractedLicensingInfo
from spdx_tools.spdx.model.package import (
    ExternalPackageRef,
    ExternalPackageRefCategory,
    Package,
    PackagePurpose,
)
from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from schemas.records import ImageInfo, PackageRecord
from services.policy.report import Report

_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
_IMAGE_ID = "SPDXRef-DOCUMENT-image"


def _spdx_id(prefix: str, text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"SPDXRef-{prefix}-{_UNSAFE.sub('-', text)[:60].strip('-')}-{digest}"


class _Licenses:
    """Declared license texts to SPDX expressions, collecting ``LicenseRef-`` texts on the way."""

    def __init__(self) -> None:
        self._licensing = get_spdx_licensing()
        self.extracted: dict[str, ExtractedLicensingInfo] = {}

    def expression(self, declared: list[str]) -> object:
        parts = []
        for text in declared:
            try:
                parsed = self._licensing.parse(text, validate=True, strict=True)
            except ExpressionError:
                parsed = None
            if parsed is None:
                ref = "LicenseRef-" + (_UNSAFE.sub("-", text).strip("-")[:60] or "empty")
                self.extracted.setdefault(
                    ref,
                    ExtractedLicensingInfo(license_id=ref, extracted_text=text, license_name=text[:200]),
                )
                parsed = self._licensing.parse(ref)
            parts.append(parsed)
        if not parts:
            return SpdxNoAssertion()
        if len(parts) == 1:
            return parts[0]
        return self._licensing.AND(*parts)


def _comment(pkg: PackageRecord) -> str:
    lines = []
    if pkg.declared:
        lines.append("declared in a lockfile or manifest, not found installed")
    if pkg.layer_digest:
        lines.append(f"layer: {pkg.layer_digest}")
    lines += [f"location: {loc}" for loc in pkg.locations]
    if pkg.found_by:
        lines.append(f"found by: {pkg.found_by}")
    return "\n".join(lines)


def _creation(report: Report) -> CreationInfo:
    img = report.image
    created = (
        datetime.strptime(report.generated_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if report.generated_at
        else datetime.now(UTC)
    )
    name = img.ref
    namespace_key = hashlib.sha256((img.digest or img.ref + report.generated_at).encode()).hexdigest()
    return CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=name,
        document_namespace=f"https://assay.invalid/spdx/{_UNSAFE.sub('-', name)}-{namespace_key}",
        creators=[Actor(ActorType.TOOL, f"assay-{report.analyzer_version or 'dev'}")],
        created=created,
    )


def _image_package(img: ImageInfo) -> Package:
    return Package(
        spdx_id=_IMAGE_ID,
        name=img.ref,
        download_location=SpdxNoAssertion(),
        version=img.digest or None,
        files_analyzed=False,
        primary_package_purpose=PackagePurpose.CONTAINER,
        checksums=(
            [Checksum(ChecksumAlgorithm.SHA256, img.digest.split(":", 1)[1])]
            if img.digest.startswith("sha256:")
            else []
        ),
    )


def _package(pkg: PackageRecord, spdx_id: str, licenses: _Licenses) -> Package:
    checksums = []
    if sha1 := pkg.metadata.get("sha1"):
        checksums.append(Checksum(ChecksumAlgorithm.SHA1, sha1))
    return Package(
        spdx_id=spdx_id,
        name=pkg.name,
        download_location=SpdxNoAssertion(),
        version=pkg.version,
        files_analyzed=False,
        license_concluded=SpdxNoAssertion(),
        license_declared=licenses.expression(pkg.licenses),
        copyright_text=SpdxNoAssertion(),
        checksums=checksums,
        source_info=f"source package: {pkg.source_name} {pkg.source_version}".strip()
        if pkg.source_name
        else None,
        comment=_comment(pkg) or None,
        external_references=[
            ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", pkg.purl)
        ],
        primary_package_purpose=(
            PackagePurpose.OPERATING_SYSTEM if pkg.type in ("deb", "apk", "rpm") else PackagePurpose.LIBRARY
        ),
    )


def build_document(report: Report) -> Document:
    """The report's inventory as an SPDX 2.3 object model."""
    licenses = _Licenses()
    packages = [_image_package(report.image)]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, _IMAGE_ID)]
    ids: dict[str, str] = {}
    for pkg in report.packages:
        if pkg.purl in ids:
            continue
        spdx_id = _spdx_id(f"Package-{pkg.type}", f"{pkg.name}-{pkg.version}-{pkg.purl}")
        ids[pkg.purl] = spdx_id
        packages.append(_package(pkg, spdx_id, licenses))
        relationships.append(Relationship(_IMAGE_ID, RelationshipType.CONTAINS, spdx_id))
    for pkg in report.packages:
        if pkg.owner in ids and pkg.purl in ids:
            relationships.append(
                Relationship(
                    ids[pkg.owner],
                    RelationshipType.OTHER,
                    ids[pkg.purl],
                    comment="ownership-by-file-overlap: the OS package installed this package's files",
                )
            )
    return Document(
        creation_info=_creation(report),
        packages=packages,
        relationships=relationships,
        extracted_licensing_info=list(licenses.extracted.values()),
    )


def render_spdx(report: Report) -> str:
    """SPDX 2.3 JSON text; spdx-tools validates the document while writing it."""
    out = io.StringIO()
    write_document_to_stream(build_document(report), out, validate=True)
    return out.getvalue() + "\n"
