"""Declared Python dependencies: ``poetry.lock`` (TOML, every ``[[package]]`` Poetry resolved).

Every locked package is reported, as syft does, with its dependency group (``groups`` in lock
format 2.1, ``category`` before) and, for packages not from an index, the source type
(``git``, ``url``, ``file``, ``directory``) in the metadata.
"""

from __future__ import annotations

from typing import Any

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.python.parse_metadata import python_to_package
from services.engine.catalogers.toml_lock import parse_package_tables
from services.engine.requests import FileRequest


def _metadata(entry: dict[str, Any]) -> dict[str, str]:
    metadata: dict[str, str] = {}
    groups = entry.get("groups")
    if isinstance(groups, list) and groups:
        metadata["groups"] = ",".join(str(g) for g in groups)
    elif isinstance(entry.get("category"), str):
        metadata["groups"] = entry["category"]
    if entry.get("optional") is True:
        metadata["optional"] = "true"
    source = entry.get("source")
    if isinstance(source, dict) and isinstance(source.get("type"), str):
        metadata["source_type"] = source["type"]
        if isinstance(source.get("url"), str):
            metadata["source_url"] = source["url"]
    return metadata


def parse_poetry_lock(path: str, data: bytes) -> ParseResult:
    """Locked packages; a file that is not TOML, or an entry without name or version, is a problem."""
    return parse_package_tables(
        path,
        data,
        "poetry.lock",
        lambda entry, name, version: RawPackage(
            name=name, version=version, declared=True, metadata=_metadata(entry)
        ),
    )


CATALOGER = Cataloger(
    name="python-poetry-lock",
    package_type="pypi",
    request=FileRequest(name="python-poetry-lock", patterns=("**/poetry.lock",), max_bytes=16 * 1024 * 1024),
    parse=parse_poetry_lock,
    to_package=python_to_package,
    tags=("language", "image", "directory", "declared"),
)
