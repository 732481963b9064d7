"""Declared pnpm dependencies: ``pnpm-lock.yaml`` (lockfile 5.x, 6.x and 9.x).

The ``packages`` keys name each resolved package: ``/name/1.2.3`` (5.x, peer suffixes after
``_``), ``/name@1.2.3`` (6.x) and ``name@1.2.3`` (9.x), with peer suffixes in parentheses
from 6.x on; entries for tarballs and git repositories carry ``name`` and ``version``
fields instead. Development-only packages are left out, as for package-lock.json: 5.x and
6.x mark them ``dev: true``; 9.x dropped that flag, so a package counts as development-only
when the ``snapshots`` graph cannot reach it from any importer's ``dependencies`` or
``optionalDependencies``. Lockfiles inside ``node_modules`` are skipped.

Dependencies of every importer count, so a workspace member's (``importers: packages/a: ...``)
production dependencies are reported with the root's; tarball, git and ``file:`` packages
take the ``version`` field their entry carries. The lockfile does not name the importers
themselves (only their directories), so the root project and its workspace members are
not packages here, as with syft and Trivy.

The file is read with ``safe_yaml`` (size and alias caps): a lockfile of nested aliases is
refused with a problem instead of expanding when a field is read.
"""

from __future__ import annotations

from typing import Any

from services.engine.budget import ScanBudget
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import in_node_modules, npm_to_package, raw_npm, unique
from services.engine.catalogers.problems import Problems
from services.engine.catalogers.safe_yaml import YamlLimits, load_yaml
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


def _text(value: Any) -> str:
    """A field's value when it is text; a mapping or list where text belongs counts as absent."""
    return value if isinstance(value, str) else ""


def _major(version: Any) -> int:
    try:
        return int(_text(version).strip("'\"").split(".", 1)[0])
    except ValueError:
        return 0


def parse_pnpm_lock(path: str, data: bytes, budget: ScanBudget | None = None) -> ParseResult:
    """Every production package a pnpm lockfile pins."""
    if in_node_modules(path):
        return ParseResult()
    limits = YamlLimits(bytes_max=budget.parsed_file_bytes_max) if budget is not None else None
    doc, problem = load_yaml(path, data, "pnpm lockfile", limits)
    if problem:
        return ParseResult(problems=[problem])
    if not isinstance(doc, dict):
        return ParseResult(problems=[f"{path}: pnpm lockfile is not a mapping"])
    major = _major(doc.get("lockfileVersion"))
    if major < 5:
        version = _text(doc.get("lockfileVersion"))[:40] or "(missing or not text)"
        return ParseResult(problems=[f"{path}: unsupported pnpm lockfileVersion {version!r}"])
    packages = doc.get("packages") or {}
    if not isinstance(packages, dict):
        return ParseResult(problems=[f"{path}: pnpm lockfile 'packages' is not a mapping"])
    production = _production_v9(doc) if major >= 9 else None
    out: list[RawPackage] = []
    problems = Problems(path)
    for key, entry in packages.items():
        meta = entry if isinstance(entry, dict) else {}
        if meta.get("dev") == "true":
            continue
        if production is not None and key.split("(", 1)[0].removeprefix("/") not in production:
            continue
        name, version = package_key(str(key), major)
        name, version = _text(meta.get("name")) or name, _text(meta.get("version")) or version
        if not name or not version:
            problems.add(f"{path}: package key {str(key)[:80]!r} names no package and version")
            continue
        resolution = meta.get("resolution")
        integrity = resolution.get("integrity") if isinstance(resolution, dict) else None
        metadata = {"integrity": integrity} if isinstance(integrity, str) else {}
        out.append(raw_npm(name, version, declared=True, metadata=metadata))
    return ParseResult(packages=unique(out), problems=problems.items())


CATALOGER = Cataloger(
    name="pnpm-lock",
    package_type="npm",
    request=FileRequest(name="pnpm-lock", patterns=("**/pnpm-lock.yaml",), max_bytes=64 * 1024 * 1024),
    parse=parse_pnpm_lock,
    to_package=npm_to_package,
    tags=("language", "image", "directory", "declared"),
)
