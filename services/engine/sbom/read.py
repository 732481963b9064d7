"""CycloneDX (1.2 to 1.6) and SPDX (2.2, 2.3) JSON documents: their packages and operating system."""

from __future__ import annotations

from typing import Any

import msgspec

from schemas.records import Distro, ImageInfo, PackageRecord, Unknown
from services.common.errors import ImageError
from services.engine.analyze import Analysis
from services.engine.sbom.purls import distro_of, package_from_purl

__all__ = ["read_sbom"]


def _cyclonedx(doc: dict[str, Any]) -> tuple[list[tuple[str, str, list[str]]], Distro | None]:
    """(ref, purl, licenses) of every component, nested ones included, and the OS component."""
    found: list[tuple[str, str, list[str]]] = []
    distro: Distro | None = None
    stack = list(doc.get("components") or [])
    while stack:  # iterative: a hostile document nests without limit
        comp = stack.pop()
        if not isinstance(comp, dict):
            continue
        stack.extend(c for c in comp.get("components") or [] if isinstance(c, dict))
        if comp.get("type") == "operating-system" and comp.get("name"):
            distro = Distro(id=str(comp["name"]).lower(), version_id=str(comp.get("version", "")))
            continue
        licenses = [
            str(
                entry.get("license", {}).get("id")
                or entry.get("license", {}).get("name")
                or entry.get("expression")
            )
            for entry in comp.get("licenses") or []
            if isinstance(entry, dict)
        ]
        ref = str(comp.get("bom-ref") or comp.get("name") or "?")
        found.append((ref, str(comp.get("purl") or ""), [x for x in licenses if x and x != "None"]))
    return found, distro


def _spdx(doc: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(SPDXID, purl, licenses) of every package; packages without a purl are kept for the unknowns."""
    found: list[tuple[str, str, list[str]]] = []
    described = {  # the document's subject (the image itself): not a package to match
        str(r.get("relatedSpdxElement"))
        for r in doc.get("relationships") or []
        if isinstance(r, dict) and r.get("relationshipType") == "DESCRIBES"
    } | {str(x) for x in doc.get("documentDescribes") or []}
    for pkg in doc.get("packages") or []:
        if not isinstance(pkg, dict) or (pkg.get("SPDXID") in described and not pkg.get("externalRefs")):
            continue
        purls = [
            str(ref.get("referenceLocator"))
            for ref in pkg.get("externalRefs") or []
            if isinstance(ref, dict) and ref.get("referenceType") == "purl"
        ]
        declared = str(pkg.get("licenseDeclared") or "")
        licenses = [declared] if declared and declared not in ("NOASSERTION", "NONE") else []
        found.append((str(pkg.get("SPDXID") or pkg.get("name") or "?"), purls[0] if purls else "", licenses))
    return found


def read_sbom(name: str, data: bytes) -> Analysis:
    """The packages of one SBOM as an image analysis; ``ImageError`` naming the file when unreadable."""
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise ImageError(f"{name}: not a JSON SBOM (CycloneDX or SPDX JSON): {exc}") from exc
    if not isinstance(doc, dict):
        raise ImageError(f"{name}: not a JSON SBOM: the document is not an object")
    distro: Distro | None = None
    if doc.get("bomFormat") == "CycloneDX":
        entries, distro = _cyclonedx(doc)
        ref = str((doc.get("metadata") or {}).get("component", {}).get("name") or name)
    elif str(doc.get("spdxVersion", "")).startswith("SPDX-"):
        entries = _spdx(doc)
        ref = str(doc.get("name") or name)
    else:
        raise ImageError(f"{name}: neither CycloneDX (bomFormat) nor SPDX (spdxVersion) JSON")
    packages: list[PackageRecord] = []
    unknowns: list[Unknown] = []
    for entry_ref, purl, licenses in entries:
        if not purl:
            unknowns.append(Unknown(path=f"{name}#{entry_ref}", reason="no package URL: cannot be matched"))
            continue
        try:
            packages.append(package_from_purl(purl, licenses=licenses))
        except ValueError as exc:
            unknowns.append(Unknown(path=f"{name}#{entry_ref}", reason=f"unusable package URL: {exc}"))
            continue
        if distro is None and packages[-1].type in ("deb", "apk", "rpm"):
            distro = distro_of(purl)
    return Analysis(image=ImageInfo(ref=f"sbom:{ref}", distro=distro), packages=packages, unknowns=unknowns)
