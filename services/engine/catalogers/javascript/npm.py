"""What every npm cataloger shares: scoped names, licence fields, and the ``pkg:npm`` record."""

from __future__ import annotations

from typing import Any

import msgspec
import yaml

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import RawPackage
from services.engine.purl import build_purl

_BOM = b"\xef\xbb\xbf"


def decode_json(path: str, data: bytes, what: str) -> tuple[Any, str]:
    """The decoded document, or ``None`` and a problem naming the file (a leading BOM is allowed)."""
    try:
        return msgspec.json.decode(data.removeprefix(_BOM)), ""
    except msgspec.DecodeError as exc:
        return None, f"{path}: not a valid {what} JSON document: {exc}"


# Every scalar stays a string (no YAML 1.1 surprises such as version 1.10 read as the float 1.1).
_YAML_LOADER: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def decode_yaml(path: str, text: str, what: str) -> tuple[Any, str]:
    """The YAML document with string scalars, or ``None`` and a problem naming the file."""
    try:
        return yaml.load(text, Loader=_YAML_LOADER), ""
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or type(exc).__name__
        return None, f"{path}: {what} is not valid YAML{where}: {reason}"


def in_node_modules(path: str) -> bool:
    """Whether ``path`` lies inside a ``node_modules`` directory.

    Lockfiles there belong to a dependency's own development and were not used to install
    anything (syft and Trivy skip them too).
    """
    return "node_modules" in path.split("/")[:-1]


def split_scope(full_name: str) -> tuple[str, str]:
    """``@scope/name`` as (``@scope``, ``name``); an unscoped name has no namespace."""
    if full_name.startswith("@") and "/" in full_name:
        scope, _, name = full_name.partition("/")
        return scope, name
    return "", full_name


def raw_npm(
    full_name: str,
    version: str,
    *,
    licenses: tuple[str, ...] = (),
    declared: bool = False,
    metadata: dict[str, str] | None = None,
) -> RawPackage:
    """A raw npm package named in full (``@scope/name``: keys stay distinct), scope in ``namespace``."""
    namespace, _ = split_scope(full_name)
    return RawPackage(
        name=full_name,
        version=version,
        namespace=namespace,
        licenses=licenses,
        declared=declared,
        metadata={k: v for k, v in (metadata or {}).items() if v},
    )


def licenses_of(doc: dict[str, Any]) -> tuple[str, ...]:
    """Licences from ``license`` (a string or the deprecated ``{"type": ...}``) or, failing that,
    the deprecated ``licenses`` list (of strings or ``{"type": ...}`` objects), as npm documents."""
    single = doc.get("license")
    if isinstance(single, str) and single.strip():
        return (single.strip(),)
    if isinstance(single, dict) and isinstance(single.get("type"), str) and single["type"].strip():
        return (single["type"].strip(),)
    many = doc.get("licenses")
    if isinstance(many, str) and many.strip():
        return (many.strip(),)
    out: list[str] = []
    if isinstance(many, list):
        for item in many:
            value = item.get("type") if isinstance(item, dict) else item
            if isinstance(value, str) and value.strip():
                out.append(value.strip())
    return tuple(out)


def unique(packages: list[RawPackage]) -> list[RawPackage]:
    """The first of each (name, version): a lockfile may pin the same package at several paths."""
    seen: set[tuple[str, str]] = set()
    out: list[RawPackage] = []
    for raw in packages:
        key = raw.key()
        if key not in seen:
            seen.add(key)
            out.append(raw)
    return out


def npm_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:npm/%40scope/name@version``; the record's name is the full ``@scope/name``."""
    namespace, name = split_scope(raw.name)
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="npm",
        purl=build_purl("npm", name, raw.version, namespace=namespace),
        licenses=list(raw.licenses),
        locations=[location],
        declared=raw.declared,
        metadata=dict(raw.metadata),
    )


def strip_jsonc(text: str) -> str:
    """JSON with comments and trailing commas (bun.lock, tsconfig) as plain JSON; strings untouched."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':  # copy a string literal whole, escapes included
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch in "]}":
            while out and out[-1].isspace():
                out.pop()
            if out and out[-1] == ",":
                out.pop()
            out.append(ch)
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)
