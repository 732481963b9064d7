"""Declared Python dependencies: ``uv.lock`` (TOML, uv's universal lockfile).

Every ``[[package]]`` is reported except the project's own entries, whose ``source`` is
``editable``, ``virtual`` or a local ``directory``: they are the code being built, not a
dependency at a published version. The source kind (``registry``, ``git``, ``url``, ``path``)
and, for registry packages, the index URL are kept in the metadata.
"""

from __future__ import annotations

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.python.parse_metadata import python_to_package
from services.engine.catalogers.toml_lock import Entry, parse_package_tables
from services.engine.requests import FileRequest

_LOCAL_SOURCES = ("editable", "virtual", "directory")


def _source_kind(entry: Entry) -> str:
    source = entry.get("source")
    return next(iter(source), "") if isinstance(source, dict) and source else ""


def _uv_package(entry: Entry, name: str, version: str) -> RawPackage:
    kind = _source_kind(entry)
    metadata = {"source": kind} if kind else {}
    source = entry.get("source")
    if kind == "registry" and isinstance(source, dict) and isinstance(source.get("registry"), str):
        metadata["index"] = source["registry"]
    return RawPackage(name=name, version=version, declared=True, metadata=metadata)


def parse_uv_lock(path: str, data: bytes) -> ParseResult:
    """Locked packages; a file that is not TOML, or a dependency without a version, is a problem."""
    return parse_package_tables(
        path, data, "uv.lock", _uv_package, skip=lambda entry: _source_kind(entry) in _LOCAL_SOURCES
    )


CATALOGER = Cataloger(
    name="python-uv-lock",
    package_type="pypi",
    request=FileRequest(name="python-uv-lock", patterns=("**/uv.lock",), max_bytes=16 * 1024 * 1024),
    parse=parse_uv_lock,
    to_package=python_to_package,
    tags=("language", "image", "directory", "declared"),
)
