"""Declared Python dependencies: ``poetry.lock`` (TOML, every ``[[package]]`` Poetry resolved).

Every locked package is reported, as syft does, with its dependency group (``groups`` in lock
format 2.1, ``category`` before) and, for packages not from an index, the source type
(``git``, ``url``, ``file``, ``directory``) in the metadata.
"""

from __future__ import annotations

import tomllib
from typing import Any

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.python.parse_metadata import python_to_package
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
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return ParseResult(problems=[f"{path}: not a valid poetry.lock: {exc}"])
    entries = doc.get("package", [])
    if not isinstance(entries, list):
        return ParseResult(problems=[f"{path}: 'package' is not an array of tables"])
    packages: list[RawPackage] = []
    problems: list[str] = []
    for n, entry in enumerate(entries, 1):
        name = entry.get("name") if isinstance(entry, dict) else None
        version = entry.get("version") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
            problems.append(f"{path}: package #{n} has no name or version")
            continue
        packages.append(RawPackage(name=name, version=version, declared=True, metadata=_metadata(entry)))
    return ParseResult(packages=packages, problems=problems)


CATALOGER = Cataloger(
    name="python-poetry-lock",
    package_type="pypi",
    request=FileRequest(name="python-poetry-lock", patterns=("**/poetry.lock",), max_bytes=16 * 1024 * 1024),
    parse=parse_poetry_lock,
    to_package=python_to_package,
    tags=("language", "image", "directory", "declared"),
)
