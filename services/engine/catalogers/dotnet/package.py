"""The raw-to-package step shared by the .NET formats: ``pkg:nuget/<Name>@<version>``."""

from __future__ import annotations

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import RawPackage
from services.engine.purl import build_purl


def nuget_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """NuGet ids keep the case the file gives them, as syft and Trivy report them."""
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="nuget",
        purl=build_purl("nuget", raw.name, raw.version),
        licenses=list(raw.licenses),
        locations=[location],
        declared=raw.declared,
        metadata=dict(raw.metadata),
    )
