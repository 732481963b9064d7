"""From a package URL, as SBOM tools write them (syft, Trivy, Assay), to a package record."""

from __future__ import annotations

from packageurl import PackageURL

from schemas.records import Distro, PackageRecord

__all__ = ["distro_of", "package_from_purl"]


def package_from_purl(
    purl: str, *, licenses: list[str] | None = None, found_by: str = "sbom"
) -> PackageRecord:
    """The package a purl names; ``ValueError`` when it is not a purl or has no version.

    The ``upstream`` qualifier names an OS package's source (``openssl`` or ``gcc-12@12.2.0-14``),
    which is what Debian and Ubuntu advisories are keyed by; ``epoch`` is kept for RPM ordering.
    """
    parsed = PackageURL.from_string(purl)
    if not parsed.version:
        raise ValueError(f"{purl}: no version")
    qualifiers = parsed.qualifiers if isinstance(parsed.qualifiers, dict) else {}
    source_name, _, source_version = qualifiers.get("upstream", "").partition("@")
    if parsed.type == "maven" and parsed.namespace:
        name = f"{parsed.namespace}:{parsed.name}"
    elif parsed.type in ("npm", "composer", "golang") and parsed.namespace:
        name = f"{parsed.namespace}/{parsed.name}"
    else:
        name = parsed.name
    epoch = qualifiers.get("epoch", "")
    return PackageRecord(
        name=name,
        version=parsed.version,
        type=parsed.type,
        purl=purl,
        source_name=source_name,
        source_version=source_version,
        arch=qualifiers.get("arch", ""),
        licenses=licenses or [],
        found_by=found_by,
        metadata={"epoch": epoch} if epoch else {},
    )


def distro_of(purl: str) -> Distro | None:
    """The operating system an OS package's ``distro`` qualifier names (``debian-12``, ``alpine-3.20.3``)."""
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    qualifiers = parsed.qualifiers if isinstance(parsed.qualifiers, dict) else {}
    value = qualifiers.get("distro", "")
    if not value:
        return None
    distro_id, _, version = value.partition("-")
    return Distro(id=distro_id.lower(), version_id=version)
