"""Declared npm dependencies: ``package-lock.json`` and ``npm-shrinkwrap.json`` (lockfile v1, v2, v3).

v1 (npm 5-6) nests ``dependencies`` by install position; v2 (npm 7-8) carries both that tree
and the flat ``packages`` map keyed by install path (``node_modules/a/node_modules/@s/b``);
v3 (npm 9+) has only ``packages``. The ``""`` entry is the project itself: it is reported
(metadata ``role: root``) when it has a name and a version, as syft does. ``link`` entries
(``node_modules/<name>``) point at workspace folders, listed under their own path; npm
writes a folder's ``name`` only when it differs from the folder's last segment, so the
member's name comes from its manifest copy, else the link, else the folder (metadata
``role: workspace``). Development-only dependencies (``"dev": true``) are left out, as syft (default
``include-dev-dependencies: false``) and Trivy (without ``--include-dev-deps``) do. Lockfiles
inside ``node_modules`` belong to a dependency's own development and are skipped.
"""

from __future__ import annotations

from typing import Any

import msgspec

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import (
    decode_json,
    in_node_modules,
    licenses_of,
    npm_to_package,
    raw_npm,
    unique,
)
from services.engine.requests import FileRequest

_NM = "node_modules/"


def _entry(name: str, meta: dict[str, Any]) -> RawPackage:
    return raw_npm(
        name,
        str(meta["version"]),
        licenses=licenses_of(meta),
        declared=True,
        metadata={"resolved": str(meta.get("resolved") or ""), "integrity": str(meta.get("integrity") or "")},
    )


def _link_names(packages: dict[str, Any]) -> dict[str, str]:
    """Workspace folder -> the name its ``node_modules`` link installs it under."""
    return {
        str(meta["resolved"]): key.rsplit(_NM, 1)[-1]
        for key, meta in packages.items()
        if isinstance(meta, dict) and meta.get("link") and isinstance(meta.get("resolved"), str)
    }


def _name_and_role(key: str, meta: dict[str, Any], links: dict[str, str]) -> tuple[str, str]:
    if _NM in key:
        # an alias (``"b": "npm:a@1"``) installs at node_modules/b but names the real package
        return str(meta.get("name") or key.rsplit(_NM, 1)[-1]), ""
    if key == "":
        return str(meta.get("name") or ""), "root"
    return str(meta.get("name") or links.get(key) or key.rsplit("/", 1)[-1]), "workspace"


def _packages_v2(path: str, packages: dict[str, Any]) -> ParseResult:
    out: list[RawPackage] = []
    problems: list[str] = []
    links = _link_names(packages)
    for key, meta in packages.items():
        if not isinstance(meta, dict) or meta.get("link") or meta.get("dev"):
            continue
        name, role = _name_and_role(key, meta, links)
        if not isinstance(meta.get("version"), str) or not meta["version"]:
            if not role:  # the project and its members need not have a version
                problems.append(f"{path}: package {key!r} has no version")
            continue
        if name:
            raw = _entry(name, meta)
            out.append(
                raw if not role else msgspec.structs.replace(raw, metadata={**raw.metadata, "role": role})
            )
    return ParseResult(packages=unique(out), problems=problems)


def _dependencies_v1(path: str, deps: dict[str, Any]) -> ParseResult:
    out: list[RawPackage] = []
    problems: list[str] = []
    stack: list[tuple[str, dict[str, Any]]] = [("", deps)]
    while stack:
        where, level = stack.pop()
        for name, meta in level.items():
            if not isinstance(meta, dict):
                problems.append(f"{path}: dependency {where + name!r} is not an object")
                continue
            nested = meta.get("dependencies")
            if isinstance(nested, dict):
                stack.append((f"{where}{name} > ", nested))
            if meta.get("dev"):
                continue
            version = meta.get("version")
            if not isinstance(version, str) or not version:
                problems.append(f"{path}: dependency {where + name!r} has no version")
                continue
            if version.startswith("npm:"):  # v1 alias: "version": "npm:real-name@1.2.3"
                real, _, version = version[4:].rpartition("@")
                name = real or name
            out.append(_entry(name, {**meta, "version": version}))
    return ParseResult(packages=unique(out), problems=problems)


def parse_package_lock(path: str, data: bytes) -> ParseResult:
    """Every non-dev package a lockfile pins; an unreadable file or entry is a problem."""
    if in_node_modules(path):
        return ParseResult()
    doc, problem = decode_json(path, data, "package-lock")
    if problem:
        return ParseResult(problems=[problem])
    if not isinstance(doc, dict):
        return ParseResult(problems=[f"{path}: package-lock is not a JSON object"])
    version = doc.get("lockfileVersion")
    packages, deps = doc.get("packages"), doc.get("dependencies")
    if version in (2, 3) and isinstance(packages, dict):
        return _packages_v2(path, packages)
    if version == 1 and isinstance(deps, dict):
        return _dependencies_v1(path, deps)
    if version in (1, 2, 3) and packages is None and deps is None:
        return ParseResult()  # a project without dependencies
    return ParseResult(problems=[f"{path}: unsupported package-lock layout (lockfileVersion {version!r})"])


CATALOGER = Cataloger(
    name="npm-package-lock",
    package_type="npm",
    request=FileRequest(
        name="npm-package-lock",
        patterns=("**/package-lock.json", "**/npm-shrinkwrap.json"),
        max_bytes=64 * 1024 * 1024,
    ),
    parse=parse_package_lock,
    to_package=npm_to_package,
    tags=("language", "image", "directory", "declared"),
)
