"""A Dart package's own manifest: ``pubspec.yaml`` (its name and version).

Every package in pub's cache (``.pub-cache/hosted/pub.dev/<name>-<version>/pubspec.yaml``)
and every Dart or Flutter app carries one: ``name``, ``version``, ``publish_to``,
``environment: {sdk, flutter}``. A pubspec without a version (an app that is never
published) names no package version and is left out, as syft does. The purl is
``pkg:pub/<name>@<version>``.
"""

from __future__ import annotations

from services.engine.catalogers.dart.parse_pubspec_lock import pub_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.safe_yaml import load_yaml
from services.engine.requests import FileRequest


def parse_pubspec(path: str, data: bytes) -> ParseResult:
    """The package a pubspec names; bad YAML, or a version without a name, is a problem."""
    document, problem = load_yaml(path, data, "pubspec")
    if problem:
        return ParseResult(problems=[problem])
    if not isinstance(document, dict):
        return ParseResult(problems=[f"{path}: pubspec is not a mapping"])
    name, version = document.get("name"), document.get("version")
    if not isinstance(version, str) or not version.strip():
        return ParseResult()
    if not isinstance(name, str) or not name.strip():
        return ParseResult(problems=[f"{path}: pubspec with a version but no name"])
    metadata = {
        k: v for k in ("publish_to", "repository", "homepage") if isinstance(v := document.get(k), str)
    }
    environment = document.get("environment")
    if isinstance(environment, dict):
        metadata |= {f"environment.{k}": v for k, v in environment.items() if isinstance(v, str)}
    return ParseResult(packages=[RawPackage(name=name.strip(), version=version.strip(), metadata=metadata)])


CATALOGER = Cataloger(
    name="dart-pubspec",
    package_type="pub",
    request=FileRequest(
        name="dart-pubspec", patterns=("**/pubspec.yaml", "**/pubspec.yml"), max_bytes=1 << 20
    ),
    parse=parse_pubspec,
    to_package=pub_to_package,
    tags=("language", "image", "directory"),
)
