"""Declared Dart and Flutter dependencies: ``pubspec.lock``.

YAML: ``packages`` maps each package to its ``version``, ``source`` (``hosted``, ``git``,
``path``, ``sdk``) and ``dependency`` (``direct main``, ``direct dev``, ``transitive``).
Hosted, git and path packages are reported with the source and dependency kind in the
metadata; ``sdk`` packages (``flutter``, ``flutter_test``) are parts of the SDK, versioned
``0.0.0``, and are left out, as Trivy does.
"""

from __future__ import annotations

from typing import Any

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import collect, plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import decode_yaml
from services.engine.requests import FileRequest


def _package(path: str, name: str, entry: Any) -> RawPackage | str | None:
    if not isinstance(entry, dict):
        return f"{path}: package {name!r} is not a mapping"
    if entry.get("source") == "sdk":
        return None
    version = entry.get("version")
    if not isinstance(version, str) or not version:
        return f"{path}: package {name!r} has no version"
    metadata = {"source": str(entry.get("source") or ""), "dependency": str(entry.get("dependency") or "")}
    description = entry.get("description")
    if isinstance(description, dict) and isinstance(description.get("url"), str):
        metadata["hosted_url"] = description["url"]
    return RawPackage(
        name=name, version=version, declared=True, metadata={k: v for k, v in metadata.items() if v}
    )


def parse_pubspec_lock(path: str, data: bytes) -> ParseResult:
    """Locked packages other than the SDK's; a bad file or entry is a problem."""
    doc, problem = decode_yaml(path, data.decode("utf-8", "replace"), "pubspec.lock")
    if problem:
        return ParseResult(problems=[problem])
    packages = doc.get("packages") if isinstance(doc, dict) else None
    if packages is None or packages == "":
        return ParseResult()
    if not isinstance(packages, dict):
        return ParseResult(problems=[f"{path}: 'packages' is not a mapping"])
    return collect(_package(path, str(name), entry) for name, entry in packages.items())


def pub_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "pub", location)


CATALOGER = Cataloger(
    name="dart-pubspec-lock",
    package_type="pub",
    request=FileRequest(name="dart-pubspec-lock", patterns=("**/pubspec.lock",), max_bytes=8 << 20),
    parse=parse_pubspec_lock,
    to_package=pub_to_package,
    tags=("language", "image", "directory", "declared"),
)
