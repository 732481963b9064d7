"""Declared Maven dependencies of an sbt build: ``build.sbt.lock`` (the sbt-dependency-lock plugin).

JSON, format version 1 (https://stringbean.github.io/sbt-dependency-lock/file-formats/version-1.html):
``{"lockVersion": 1, "dependencies": [{"org", "name", "version", "configurations": [...]}]}``.
Dependencies used only by ``test`` (or ``provided``, ``optional``) configurations do not ship
and are left out, as Trivy does: a dependency is kept when ``compile`` or ``runtime`` uses it.
"""

from __future__ import annotations

import json
from typing import Any

from services.engine.catalogers.collect import Found, collect
from services.engine.catalogers.gradle.parse_gradle_lockfile import gradle_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_SHIPPED = frozenset({"compile", "runtime"})


def _dependency(path: str, index: int, entry: Any) -> Found:
    if not isinstance(entry, dict):
        return f"{path}: dependencies[{index}] is not an object"
    org, name, version = (entry.get(k) for k in ("org", "name", "version"))
    if not (
        isinstance(org, str)
        and org
        and isinstance(name, str)
        and name
        and isinstance(version, str)
        and version
    ):
        return f"{path}: dependencies[{index}] without org, name or version"
    configurations = entry.get("configurations")
    configurations = (
        [c for c in configurations if isinstance(c, str)] if isinstance(configurations, list) else []
    )
    if not _SHIPPED.intersection(configurations):
        return None
    return RawPackage(
        name=name,
        version=version,
        namespace=org,
        declared=True,
        metadata={"configurations": ",".join(configurations)},
    )


def parse_sbt_lock(path: str, data: bytes) -> ParseResult:
    """Every dependency a compile or runtime configuration uses; bad JSON or entries are problems."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return ParseResult(problems=[f"{path}: not a JSON lockfile: {exc}"])
    dependencies = document.get("dependencies") if isinstance(document, dict) else None
    if not isinstance(dependencies, list):
        return ParseResult(problems=[f"{path}: no dependencies list"])
    return collect(_dependency(path, i, entry) for i, entry in enumerate(dependencies))


CATALOGER = Cataloger(
    name="sbt-lockfile",
    package_type="maven",
    request=FileRequest(name="sbt-lockfile", patterns=("**/build.sbt.lock",), max_bytes=8 * 1024 * 1024),
    parse=parse_sbt_lock,
    to_package=gradle_to_package,
    tags=("language", "image", "directory", "declared"),
)
