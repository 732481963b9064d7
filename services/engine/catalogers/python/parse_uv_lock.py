"""Declared Python dependencies: ``uv.lock`` (TOML, uv's universal lockfile).

Every ``[[package]]`` is reported except the project's own entries, whose ``source`` is
``editable``, ``virtual`` or a local ``directory``: they are the code being built, not a
dependency at a published version. The source kind (``registry``, ``git``, ``url``, ``path``)
and, for registry packages, the index URL are kept in the metadata.
"""

from __future__ import annotations

import tomllib

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.python.parse_metadata import python_to_package
from services.engine.requests import FileRequest

_LOCAL_SOURCES = ("editable", "virtual", "directory")


def parse_uv_lock(path: str, data: bytes) -> ParseResult:
    """Locked packages; a file that is not TOML, or a dependency without a version, is a problem."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return ParseResult(problems=[f"{path}: not a valid uv.lock: {exc}"])
    entries = doc.get("package", [])
    if not isinstance(entries, list):
        return ParseResult(problems=[f"{path}: 'package' is not an array of tables"])
    packages: list[RawPackage] = []
    problems: list[str] = []
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            problems.append(f"{path}: package #{n} is not a table")
            continue
        source = entry.get("source")
        kind = next(iter(source), "") if isinstance(source, dict) and source else ""
        if kind in _LOCAL_SOURCES:
            continue
        name, version = entry.get("name"), entry.get("version")
        if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
            problems.append(f"{path}: package #{n} has no name or version")
            continue
        metadata = {"source": kind} if kind else {}
        if kind == "registry" and isinstance(source, dict) and isinstance(source.get("registry"), str):
            metadata["index"] = source["registry"]
        packages.append(RawPackage(name=name, version=version, declared=True, metadata=metadata))
    return ParseResult(packages=packages, problems=problems)


CATALOGER = Cataloger(
    name="python-uv-lock",
    package_type="pypi",
    request=FileRequest(name="python-uv-lock", patterns=("**/uv.lock",), max_bytes=16 * 1024 * 1024),
    parse=parse_uv_lock,
    to_package=python_to_package,
    tags=("language", "image", "directory", "declared"),
)
