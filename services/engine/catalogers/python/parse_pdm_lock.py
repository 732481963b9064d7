"""Declared Python dependencies: ``pdm.lock`` (TOML, every ``[[package]]`` PDM resolved).

Every locked package is reported, development groups included, as syft does; PDM writes one
entry per extras combination (``coverage`` and ``coverage[toml]`` at the same version), which
is one package. The dependency groups and the extras are kept in the metadata.
"""

from __future__ import annotations

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.python.parse_metadata import python_to_package
from services.engine.catalogers.toml_lock import Entry, parse_package_tables
from services.engine.requests import FileRequest


def _joined(entry: Entry, key: str) -> str:
    value = entry.get(key)
    return ",".join(str(v) for v in value) if isinstance(value, list) else ""


def _pdm_package(entry: Entry, name: str, version: str) -> RawPackage:
    metadata = {"groups": _joined(entry, "groups"), "extras": _joined(entry, "extras")}
    return RawPackage(
        name=name, version=version, declared=True, metadata={k: v for k, v in metadata.items() if v}
    )


def parse_pdm_lock(path: str, data: bytes) -> ParseResult:
    """Locked packages, one per (name, version); a bad file or entry is a problem."""
    result = parse_package_tables(path, data, "pdm.lock", _pdm_package)
    merged: dict[tuple[str, str], RawPackage] = {}
    for raw in result.packages:
        first = merged.setdefault(raw.key(), raw)
        if first is not raw and "extras" in raw.metadata:
            extras = ",".join(x for x in (first.metadata.get("extras"), raw.metadata["extras"]) if x)
            merged[raw.key()] = RawPackage(
                name=first.name,
                version=first.version,
                declared=True,
                metadata={**first.metadata, "extras": extras},
            )
    return ParseResult(packages=list(merged.values()), problems=result.problems)


CATALOGER = Cataloger(
    name="python-pdm-lock",
    package_type="pypi",
    request=FileRequest(name="python-pdm-lock", patterns=("**/pdm.lock",), max_bytes=16 * 1024 * 1024),
    parse=parse_pdm_lock,
    to_package=python_to_package,
    tags=("language", "image", "directory", "declared"),
)
