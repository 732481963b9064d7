"""NuGet packages of a built .NET application: ``<App>.deps.json`` beside its assemblies.

The SDK writes this file at build/publish time and the host reads it to load assemblies, so
it describes what the application runs with (syft's dotnet-deps cataloger, Trivy's
``dotnet-core`` analyzer). ``libraries`` maps ``Name/Version`` to a type: ``package``
entries are NuGet packages. Of the ``project`` entries, the application itself (the
project named like the file: ``App`` for ``App.deps.json``) is reported, with metadata
``role: root``, as syft does; its project references are the application's own code, and
``referenceassembly`` entries are the framework's. When the runtime target (``runtimeTarget.name``)
is listed under ``targets``, only libraries of that target are reported.
"""

from __future__ import annotations

import json
from typing import Any

from services.engine.catalogers.dotnet.package import nuget_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest


def _runtime_libraries(doc: dict[str, Any]) -> set[str] | None:
    """``Name/Version`` keys of the runtime target, or None when the file does not say."""
    target = doc.get("runtimeTarget")
    targets = doc.get("targets")
    name = target.get("name") if isinstance(target, dict) else None
    if not isinstance(name, str) or not isinstance(targets, dict) or not isinstance(targets.get(name), dict):
        return None
    return set(targets[name])


def parse_deps_json(path: str, data: bytes) -> ParseResult:
    """``package`` libraries; a file that is not a deps.json, or a bad library key, is a problem."""
    try:
        doc: Any = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return ParseResult(problems=[f"{path}: not valid JSON: {exc}"])
    libraries = doc.get("libraries") if isinstance(doc, dict) else None
    if not isinstance(libraries, dict):
        return ParseResult(problems=[f"{path}: no 'libraries' object: not a .NET deps.json"])
    runtime = _runtime_libraries(doc)
    target = doc["runtimeTarget"]["name"] if runtime is not None else ""
    packages: list[RawPackage] = []
    problems: list[str] = []
    root = path.rsplit("/", 1)[-1].removesuffix(".deps.json")
    for key, library in libraries.items():
        if not isinstance(library, dict):
            continue
        name, _, version = key.partition("/")
        if library.get("type") == "project" and name == root and version:
            packages.append(RawPackage(name=name, version=version, metadata={"role": "root"}))
        if library.get("type") != "package":
            continue
        if not name or not version:
            problems.append(f"{path}: library {key!r} is not 'Name/Version'")
            continue
        if runtime is not None and key not in runtime:
            continue  # listed for another target (e.g. a RID-specific graph) only
        metadata = {
            k: library[k] for k in ("sha512", "path") if isinstance(library.get(k), str) and library[k]
        }
        if target:
            metadata["runtime_target"] = target
        packages.append(RawPackage(name=name, version=version, metadata=metadata))
    return ParseResult(packages=packages, problems=problems)


CATALOGER = Cataloger(
    name="dotnet-deps",
    package_type="nuget",
    request=FileRequest(name="dotnet-deps", patterns=("**/*.deps.json",), max_bytes=16 * 1024 * 1024),
    parse=parse_deps_json,
    to_package=nuget_to_package,
    tags=("language", "image", "directory"),
)
