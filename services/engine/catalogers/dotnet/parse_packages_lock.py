"""Declared NuGet dependencies: ``packages.lock.json`` (NuGet's lock file, per target framework).

``dependencies`` maps each target framework (``net6.0``, ``net6.0/linux-x64``) to packages
with a ``type`` (``Direct``, ``Transitive``, ``CentralTransitive``, ``Project``) and the
``resolved`` version. Project references are the solution's own code and are left out; a
package locked for several frameworks at one version is reported once.
"""

from __future__ import annotations

import json
from typing import Any

from services.engine.catalogers.dotnet.package import nuget_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest


def parse_packages_lock(path: str, data: bytes) -> ParseResult:
    """Resolved packages of every framework; JSON that is not a NuGet lock file is a problem."""
    try:
        doc: Any = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return ParseResult(problems=[f"{path}: not valid JSON: {exc}"])
    frameworks = doc.get("dependencies") if isinstance(doc, dict) else None
    if not isinstance(frameworks, dict):
        return ParseResult(problems=[f"{path}: no 'dependencies' object: not a NuGet packages.lock.json"])
    found: dict[tuple[str, str], RawPackage] = {}
    problems: list[str] = []
    for framework, entries in frameworks.items():
        if not isinstance(entries, dict):
            problems.append(f"{path}: dependencies of {framework!r} is not an object")
            continue
        for name, entry in entries.items():
            if not isinstance(entry, dict) or entry.get("type") == "Project":
                continue
            version = entry.get("resolved")
            if not isinstance(version, str) or not version:
                problems.append(f"{path}: {framework}: {name} has no resolved version")
                continue
            if (name, version) not in found:
                kind = entry.get("type")
                metadata = {"framework": framework, **({"type": kind} if isinstance(kind, str) else {})}
                found[(name, version)] = RawPackage(
                    name=name, version=version, declared=True, metadata=metadata
                )
    return ParseResult(packages=list(found.values()), problems=problems)


CATALOGER = Cataloger(
    name="dotnet-packages-lock",
    package_type="nuget",
    request=FileRequest(
        name="dotnet-packages-lock", patterns=("**/packages.lock.json",), max_bytes=16 * 1024 * 1024
    ),
    parse=parse_packages_lock,
    to_package=nuget_to_package,
    tags=("language", "image", "directory", "declared"),
)
