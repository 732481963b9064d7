"""The ``pkg:gem`` record both Ruby catalogers build."""

from __future__ import annotations

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import RawPackage
from services.engine.purl import build_purl


def gem_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:gem/<name>@<version>`` (a platform, when the lockfile names one, is a qualifier)."""
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="gem",
        purl=build_purl(
            "gem", raw.name, raw.version, qualifiers={"platform": raw.metadata.get("platform", "")}
        ),
        licenses=list(raw.licenses),
        locations=[location],
        declared=raw.declared,
        metadata=dict(raw.metadata),
    )
