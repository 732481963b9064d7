"""Declared Bun dependencies: the text lockfile ``bun.lock`` (Bun 1.2+; JSON with trailing commas).

``packages`` maps an install key (``name``, or ``parent/name`` for a nested copy) to a tuple
whose first item is ``name@version``; registry entries go on with the tarball URL, a
metadata object (``dependencies``, ``optionalDependencies``, ``peerDependencies``) and the
integrity hash. ``name@workspace:<folder>`` entries are workspace members, whose version is
in ``workspaces[<folder>]`` (metadata ``role: workspace``); ``link:``, ``file:`` and
``root:`` entries are local folders, not published packages. The binary ``bun.lockb`` is
not read. As for npm, development-only packages (reached only from the workspaces'
``devDependencies``) are left out, as syft does by default.
"""

from __future__ import annotations

from typing import Any

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import (
    decode_json,
    in_node_modules,
    npm_to_package,
    raw_npm,
    strip_jsonc,
    unique,
)
from services.engine.requests import FileRequest

_LOCAL = ("link:", "file:", "root:")
_PROD_DEPS = ("dependencies", "optionalDependencies", "peerDependencies")


def _meta(entry: list[Any]) -> dict[str, Any]:
    """The metadata object of a package tuple (second item for short forms, third for registry ones)."""
    found = entry[2] if len(entry) > 3 else entry[1] if len(entry) > 1 else None
    return found if isinstance(found, dict) else {}


def _dep_names(meta: dict[str, Any], fields: tuple[str, ...]) -> set[str]:
    return {name for field in fields if isinstance(meta.get(field), dict) for name in meta[field]}


def _reachable(packages: dict[str, list[Any]], roots: set[str]) -> set[str]:
    """Install keys reachable from ``roots`` (a nested copy ``parent/dep`` wins over ``dep``)."""
    seen: set[str] = set()
    stack = [r for r in roots if r in packages]
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        for dep in _dep_names(_meta(packages[key]), _PROD_DEPS[:2]):
            nested = f"{key}/{dep}"
            found = nested if nested in packages else dep
            if found in packages:  # a dependency the lockfile does not list is not followed
                stack.append(found)
    return seen


def _workspace_roots(workspaces: dict[str, Any]) -> tuple[set[str], set[str]]:
    prod: set[str] = set()
    dev: set[str] = set()
    for ws in workspaces.values():
        if isinstance(ws, dict):
            prod |= _dep_names(ws, _PROD_DEPS)
            dev |= _dep_names(ws, ("devDependencies",))
    return prod, dev


def _package(key: str, entry: list[Any], workspaces: dict[str, Any]) -> RawPackage | str | None:
    """The raw package, None for a local folder, or a problem."""
    ident = entry[0] if entry and isinstance(entry[0], str) else ""
    at = ident.rfind("@")
    if at <= 0:
        return f"package {key!r} has no name@version"
    name, version = ident[:at], ident[at + 1 :]
    metadata: dict[str, str] = {}
    if version.startswith("workspace:"):
        ws = workspaces.get(version.removeprefix("workspace:")) or workspaces.get(key) or {}
        version = str(ws.get("version") or "") if isinstance(ws, dict) else ""
        metadata["role"] = "workspace"
        if not version:
            return None
    elif version.startswith(_LOCAL) or not version:
        return None
    elif len(entry) > 3:
        metadata = {"resolved": str(entry[1] or ""), "integrity": str(entry[3] or "")}
    return raw_npm(name, version, declared=True, metadata=metadata)


def parse_bun_lock(path: str, data: bytes) -> ParseResult:
    """Every production package the lockfile pins; a bad file or entry is a problem."""
    if in_node_modules(path):
        return ParseResult()
    doc, problem = decode_json(path, strip_jsonc(data.decode("utf-8", "replace")).encode(), "bun.lock")
    if problem:
        return ParseResult(problems=[problem])
    packages = doc.get("packages") if isinstance(doc, dict) else None
    workspaces = doc.get("workspaces") if isinstance(doc, dict) else None
    if not isinstance(packages, dict):
        return ParseResult(problems=[f"{path}: no 'packages' object: not a bun.lock"])
    workspaces = workspaces if isinstance(workspaces, dict) else {}
    entries = {k: v for k, v in packages.items() if isinstance(v, list)}
    prod_roots, dev_roots = _workspace_roots(workspaces)
    dev_only = _reachable(entries, dev_roots) - _reachable(entries, prod_roots)
    out: list[RawPackage] = []
    problems = [f"{path}: package {k!r} is not an array" for k in packages if k not in entries]
    for key, entry in entries.items():
        if key in dev_only:
            continue
        raw = _package(key, entry, workspaces)
        if isinstance(raw, str):
            problems.append(f"{path}: {raw}")
        elif raw is not None:
            out.append(raw)
    return ParseResult(packages=unique(out), problems=problems)


CATALOGER = Cataloger(
    name="bun-lock",
    package_type="npm",
    request=FileRequest(name="bun-lock", patterns=("**/bun.lock",), max_bytes=64 * 1024 * 1024),
    parse=parse_bun_lock,
    to_package=npm_to_package,
    tags=("language", "image", "directory", "declared"),
)
