"""Declared pnpm dependencies: ``pnpm-lock.yaml`` (lockfile 5.x, 6.x and 9.x).

The ``packages`` keys name each resolved package: ``/name/1.2.3`` (5.x, peer suffixes after
``_``), ``/name@1.2.3`` (6.x) and ``name@1.2.3`` (9.x), with peer suffixes in parentheses
from 6.x on; entries for tarballs and git repositories carry ``name`` and ``version``
fields instead. Development-only packages are left out, as for package-lock.json: 5.x and
6.x mark them ``dev: true``; 9.x dropped that flag, so a package counts as development-only
when the ``snapshots`` graph cannot reach it from any importer's ``dependencies`` or
``optionalDependencies``. Lockfiles inside ``node_modules`` are skipped.
"""

from __future__ import annotations

from typing import Any

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import (
    decode_yaml,
    in_node_modules,
    npm_to_package,
    raw_npm,
    unique,
)
from services.engine.requests import FileRequest

_PROD = ("dependencies", "optionalDependencies")


def _split_at(key: str) -> tuple[str, str]:
    """``name@version`` (6.x and later); a scoped name's own ``@`` is not the separator."""
    at = key.find("@", 1)
    return (key[:at], key[at + 1 :]) if at > 0 else ("", "")


def package_key(key: str, major: int) -> tuple[str, str]:
    """(name, version) of a ``packages`` key, without the leading ``/`` and peer suffixes."""
    key = key.removeprefix("/").split("(", 1)[0]
    if major >= 6:
        return _split_at(key)
    name, _, version = key.rpartition("/")
    return name, version.split("_", 1)[0]


def _snapshot_key(name: str, version: str) -> str:
    """The snapshot a dependency edge points at (``version`` may itself be ``real@1.0.0`` for aliases)."""
    base = version.split("(", 1)[0]
    return version if "@" in base[1:] else f"{name}@{version}"


def _production_v9(doc: dict[str, Any]) -> set[str] | None:
    """Package keys (``name@version``) reachable from production dependencies, or None if unknowable."""
    importers, snapshots = doc.get("importers"), doc.get("snapshots")
    if not isinstance(importers, dict) or not isinstance(snapshots, dict):
        return None
    todo: list[str] = []
    for importer in importers.values():
        for field in _PROD:
            deps = importer.get(field) if isinstance(importer, dict) else None
            for name, spec in (deps or {}).items() if isinstance(deps, dict) else ():
                version = spec.get("version") if isinstance(spec, dict) else spec
                if isinstance(version, str) and not version.startswith("link:"):
                    todo.append(_snapshot_key(name, version))
    seen: set[str] = set()
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        snap = snapshots.get(key)
        for field in _PROD:
            deps = snap.get(field) if isinstance(snap, dict) else None
            for name, version in (deps or {}).items() if isinstance(deps, dict) else ():
                if isinstance(version, str) and not version.startswith("link:"):
                    todo.append(_snapshot_key(name, version))
    return {key.split("(", 1)[0] for key in seen}


def _major(version: Any) -> int:
    try:
        return int(str(version).strip("'\"").split(".", 1)[0])
    except ValueError:
        return 0


def parse_pnpm_lock(path: str, data: bytes) -> ParseResult:
    """Every production package a pnpm lockfile pins."""
    if in_node_modules(path):
        return ParseResult()
    doc, problem = decode_yaml(path, data.decode("utf-8", errors="replace"), "pnpm lockfile")
    if problem:
        return ParseResult(problems=[problem])
    if not isinstance(doc, dict):
        return ParseResult(problems=[f"{path}: pnpm lockfile is not a mapping"])
    major = _major(doc.get("lockfileVersion"))
    if major < 5:
        version = doc.get("lockfileVersion")
        return ParseResult(problems=[f"{path}: unsupported pnpm lockfileVersion {version!r}"])
    packages = doc.get("packages") or {}
    if not isinstance(packages, dict):
        return ParseResult(problems=[f"{path}: pnpm lockfile 'packages' is not a mapping"])
    production = _production_v9(doc) if major >= 9 else None
    out: list[RawPackage] = []
    problems: list[str] = []
    for key, entry in packages.items():
        meta = entry if isinstance(entry, dict) else {}
        if meta.get("dev") == "true":
            continue
        if production is not None and key.split("(", 1)[0].removeprefix("/") not in production:
            continue
        name, version = package_key(str(key), major)
        name, version = str(meta.get("name") or name), str(meta.get("version") or version)
        if not name or not version:
            problems.append(f"{path}: package key {str(key)[:80]!r} names no package and version")
            continue
        resolution = meta.get("resolution")
        integrity = resolution.get("integrity", "") if isinstance(resolution, dict) else ""
        out.append(raw_npm(name, version, declared=True, metadata={"integrity": str(integrity)}))
    return ParseResult(packages=unique(out), problems=problems)


CATALOGER = Cataloger(
    name="pnpm-lock",
    package_type="npm",
    request=FileRequest(name="pnpm-lock", patterns=("**/pnpm-lock.yaml",), max_bytes=64 * 1024 * 1024),
    parse=parse_pnpm_lock,
    to_package=npm_to_package,
    tags=("language", "image", "directory", "declared"),
)
