"""Declared C/C++ dependencies: Conan's ``conan.lock`` (Conan 1's ``graph_lock`` and Conan 2's lists).

Conan 2 (lock version 0.5) lists references under ``requires``, ``build_requires`` and
``python_requires``: ``zlib/1.2.13#<recipe revision>%<timestamp>``. Conan 1 (0.4) keeps a
``graph_lock`` of ``nodes`` whose ``ref`` is ``name/version@user/channel#revision``; node
``0`` is the consumer (the project) and has no ``ref``. Every reference is reported, build
tools with ``dev: true`` in the metadata; ``user``/``channel`` and the revision go to the
metadata too.
"""

from __future__ import annotations

import re
from typing import Any

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import collect, plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import decode_json
from services.engine.requests import FileRequest

_REF = re.compile(
    r"^(?P<name>[\w.+-]+)/(?P<version>[^@#%/\s]+)(?:@(?P<user>[\w.+-]+)/(?P<channel>[\w.+-]+))?"
    r"(?:#(?P<revision>[0-9a-f]+))?(?:%[\d.]+)?$"
)


def conan_reference(path: str, ref: Any, dev: bool) -> RawPackage | str:
    """One `name/version[@user/channel][#revision]` reference, or a problem naming the file."""
    m = _REF.match(ref) if isinstance(ref, str) else None
    if m is None:
        return f"{path}: reference {str(ref)[:80]!r} is not name/version"
    metadata = {
        "user": m["user"] or "",
        "channel": m["channel"] or "",
        "recipe_revision": m["revision"] or "",
        "dev": "true" if dev else "",
    }
    return RawPackage(
        name=m["name"], version=m["version"], declared=True, metadata={k: v for k, v in metadata.items() if v}
    )


def _references(doc: dict[str, Any]) -> list[tuple[Any, bool]]:
    """(reference, build-only) pairs of either lock format."""
    graph = doc.get("graph_lock")
    if isinstance(graph, dict) and isinstance(graph.get("nodes"), dict):
        return [(n["ref"], False) for n in graph["nodes"].values() if isinstance(n, dict) and n.get("ref")]
    refs: list[tuple[Any, bool]] = []
    for key, dev in (("requires", False), ("python_requires", False), ("build_requires", True)):
        value = doc.get(key)
        refs += [(r, dev) for r in value] if isinstance(value, list) else []
    return refs


def parse_conan_lock(path: str, data: bytes) -> ParseResult:
    """Every locked reference; a reference that is not ``name/version`` is a problem."""
    doc, problem = decode_json(path, data, "conan.lock")
    if problem:
        return ParseResult(problems=[problem])
    if not isinstance(doc, dict) or not ("graph_lock" in doc or "requires" in doc or "version" in doc):
        return ParseResult(problems=[f"{path}: neither 'graph_lock' nor 'requires': not a conan.lock"])
    return collect(conan_reference(path, ref, dev) for ref, dev in _references(doc))


def conan_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:conan/<name>@<version>`` (``?user=...&channel=...`` for Conan 1 user/channel references)."""
    qualifiers = {"user": raw.metadata.get("user", ""), "channel": raw.metadata.get("channel", "")}
    return plain_record(raw, "conan", location, qualifiers=qualifiers)


CATALOGER = Cataloger(
    name="conan-lock",
    package_type="conan",
    request=FileRequest(name="conan-lock", patterns=("**/conan.lock",), max_bytes=16 << 20),
    parse=parse_conan_lock,
    to_package=conan_to_package,
    tags=("language", "image", "directory", "declared"),
)
