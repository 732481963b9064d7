"""Declared Swift dependencies: SwiftPM's ``Package.resolved`` (format versions 1, 2 and 3).

Version 1 keeps ``object.pins`` with ``package``, ``repositoryURL`` and ``state``; versions 2
and 3 keep ``pins`` with ``identity``, ``location`` and ``state``. A pin resolved to a
release carries ``state.version``; a branch or revision pin has none and names no
published version, so it is left out. The purl is syft's: ``pkg:swift/<host>/<owner>/<name>@<version>``
from the repository URL (``https://github.com/apple/swift-nio.git``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import collect, plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import decode_json
from services.engine.requests import FileRequest


def _namespace(location: str) -> str:
    """``github.com/apple`` from ``https://github.com/apple/x.git`` or ``git@github.com:apple/x.git``."""
    if "://" not in location and ":" in location:  # scp-like git URL
        location = "ssh://" + location.replace(":", "/", 1)
    parts = urlsplit(location)
    path = parts.path.strip("/").removesuffix(".git")
    owner = path.rsplit("/", 1)[0] if "/" in path else ""
    return "/".join(x for x in (parts.hostname or "", owner) if x)


def _pin(path: str, index: int, pin: Any) -> RawPackage | str | None:
    if not isinstance(pin, dict) or not isinstance(pin.get("state"), dict):
        return f"{path}: pin #{index} is not an object with a state"
    name = pin.get("identity") or pin.get("package")
    location = pin.get("location") or pin.get("repositoryURL") or ""
    version = pin["state"].get("version")
    if not isinstance(name, str) or not name:
        return f"{path}: pin #{index} has no identity"
    if not isinstance(version, str) or not version:
        return None  # a branch or revision pin
    metadata = {"location": str(location), "revision": str(pin["state"].get("revision") or "")}
    return RawPackage(
        name=name,
        version=version,
        namespace=_namespace(str(location)),
        declared=True,
        metadata={k: v for k, v in metadata.items() if v},
    )


def parse_package_resolved(path: str, data: bytes) -> ParseResult:
    """Pins resolved to a version; a pin that is not an object, or has no name, is a problem."""
    doc, problem = decode_json(path, data, "Package.resolved")
    if problem:
        return ParseResult(problems=[problem])
    holder = doc.get("object", doc) if isinstance(doc, dict) else None
    pins = holder.get("pins") if isinstance(holder, dict) else None
    if not isinstance(pins, list):
        return ParseResult(problems=[f"{path}: no 'pins' list: not a Package.resolved"])
    return collect(_pin(path, index, pin) for index, pin in enumerate(pins))


def swift_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "swift", location, namespace=raw.namespace)


CATALOGER = Cataloger(
    name="swift-package-resolved",
    package_type="swift",
    request=FileRequest(
        name="swift-package-resolved",
        patterns=("**/Package.resolved", "**/.package.resolved"),
        max_bytes=8 << 20,
    ),
    parse=parse_package_resolved,
    to_package=swift_to_package,
    tags=("language", "image", "directory", "declared"),
)
