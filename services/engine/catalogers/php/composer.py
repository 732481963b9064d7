"""What both Composer catalogers share: one package entry and the ``pkg:composer`` record."""

from __future__ import annotations

from typing import Any

import msgspec

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import ParseResult, RawPackage
from services.engine.purl import build_purl

_BOM = b"\xef\xbb\xbf"


def decode_json(path: str, data: bytes, what: str) -> tuple[Any, str]:
    """The decoded document, or ``None`` and a problem naming the file."""
    try:
        return msgspec.json.decode(data.removeprefix(_BOM)), ""
    except msgspec.DecodeError as exc:
        return None, f"{path}: not a valid {what} JSON document: {exc}"


def read_entries(
    path: str, entries: Any, *, declared: bool, dev_names: frozenset[str] = frozenset()
) -> ParseResult:
    """Packages from a list of Composer package objects (``name``, ``version``, ``license`` list)."""
    if not isinstance(entries, list):
        return ParseResult(problems=[f"{path}: package list is not a JSON array"])
    out: list[RawPackage] = []
    problems: list[str] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"{path}: package #{index} is not a JSON object")
            continue
        name, version = entry.get("name"), entry.get("version")
        if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
            problems.append(f"{path}: package #{index} has no name or version")
            continue
        license_field = entry.get("license")
        if isinstance(license_field, str):
            license_field = [license_field]
        licenses = tuple(x for x in license_field or () if isinstance(x, str) and x)
        vendor = name.split("/", 1)[0] if "/" in name else ""
        source = entry.get("source")
        reference = source.get("reference", "") if isinstance(source, dict) else ""
        metadata = {"source_reference": str(reference or ""), "dev": "true" if name in dev_names else ""}
        out.append(
            RawPackage(
                name=name,
                version=version,
                namespace=vendor,
                licenses=licenses,
                declared=declared,
                metadata={k: v for k, v in metadata.items() if v},
            )
        )
    return ParseResult(packages=out, problems=problems)


def composer_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:composer/vendor/name@version``; the record's name is ``vendor/name`` as Composer writes it."""
    vendor, _, rest = raw.name.partition("/")
    # a name without a vendor is its own name; extra slashes are joined as syft does
    namespace, name = (vendor, rest.replace("/", "-")) if rest else ("", vendor)
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="composer",
        purl=build_purl("composer", name, raw.version, namespace=namespace),
        licenses=list(raw.licenses),
        locations=[location],
        declared=raw.declared,
        metadata=dict(raw.metadata),
    )
