"""Declared Python dependencies: PEP 751 lock files (``pylock.toml``, ``pylock.<name>.toml``).

Each ``[[packages]]`` table names one distribution to install. The standard omits
``version`` for packages built from a source tree (``directory``, ``vcs``, ``archive``
without a version): those are the project or a checkout, not a published release, and
are left out; any other entry without a name or version is a problem. The index URL and
the source kind are kept in the metadata.
"""

from __future__ import annotations

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.python.parse_metadata import python_to_package
from services.engine.catalogers.toml_lock import Entry, parse_package_tables
from services.engine.requests import FileRequest

_SOURCES = ("vcs", "directory", "archive", "sdist", "wheels")
_TREES = ("vcs", "directory", "archive")


def _unversioned_tree(entry: Entry) -> bool:
    return "version" not in entry and any(isinstance(entry.get(k), dict) for k in _TREES)


def _pylock_package(entry: Entry, name: str, version: str) -> RawPackage:
    metadata: dict[str, str] = {}
    if isinstance(entry.get("index"), str):
        metadata["index"] = entry["index"]
    kind = next((k for k in _SOURCES if k in entry), "")
    if kind:
        metadata["source"] = kind
    if isinstance(entry.get("marker"), str):
        metadata["markers"] = entry["marker"]
    return RawPackage(name=name, version=version, declared=True, metadata=metadata)


def parse_pylock(path: str, data: bytes) -> ParseResult:
    """Locked distributions; a file that is not TOML, or an entry without name or version, is a problem."""
    return parse_package_tables(
        path, data, "pylock.toml", _pylock_package, skip=_unversioned_tree, key="packages"
    )


CATALOGER = Cataloger(
    name="python-pylock",
    package_type="pypi",
    request=FileRequest(
        name="python-pylock", patterns=("**/pylock.toml", "**/pylock.*.toml"), max_bytes=16 * 1024 * 1024
    ),
    parse=parse_pylock,
    to_package=python_to_package,
    tags=("language", "image", "directory", "declared"),
)
