"""What the Haskell catalogers share: the ``pkg:hackage`` record."""

from __future__ import annotations

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import RawPackage


def hackage_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "hackage", location)
