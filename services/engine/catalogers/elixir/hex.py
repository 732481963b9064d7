"""What the Hex catalogers (mix.lock, rebar.lock) share: the ``pkg:hex`` record."""

from __future__ import annotations

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import RawPackage


def hex_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:hex/<name>@<version>``, declared (both files are lockfiles)."""
    return plain_record(raw, "hex", location)
