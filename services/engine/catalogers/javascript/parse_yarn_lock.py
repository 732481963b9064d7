"""Declared yarn dependencies: ``yarn.lock`` in the classic (v1) and berry (yarn 2+) formats.

Classic files are yarn's own indented format: a header line of comma-separated
``name@range`` specifiers ending in ``:``, then indented ``version "x"``. Berry files are
YAML with a ``__metadata`` entry; each entry's ``resolution`` (``name@npm:1.2.3``) names the
package and ``linkType: soft`` marks workspaces, links and portals (local folders, not
dependencies). A lockfile does not say which entries only development needs (that is in
``package.json``), so every entry is reported. Lockfiles inside ``node_modules`` are skipped.
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


def spec_name(spec: str) -> str:
    """The package a ``name@range`` specifier installs (``a@npm:b@^1`` is an alias installing ``b``)."""
    spec = spec.strip().strip('"')
    at = spec.find("@", 1)
    if at <= 0:
        return ""
    name, rng = spec[:at], spec[at + 1 :]
    if rng.startswith("npm:") and "@" in rng[5:]:  # alias to a registry package
        real = spec_name(rng[4:])
        return real or name
    return name


def _split_header(header: str) -> list[str]:
    """``"a@^1", a@~1.2:`` as its specifiers (commas inside quotes do not split)."""
    out: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in header.rstrip().removesuffix(":"):
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    out.append("".join(current).strip())
    return [s for s in out if s]


def _parse_classic(path: str, text: str) -> ParseResult:
    out: list[RawPackage] = []
    problems: list[str] = []
    name, version, start = "", "", 0

    def flush() -> None:
        if not name:
            return
        if version:
            out.append(raw_npm(name, version, declared=True))
        else:
            problems.append(f"{path}: entry {name!r} at line {start} has no version")

    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            flush()
            specs = _split_header(line) if line.rstrip().endswith(":") else []
            names = {spec_name(s) for s in specs} - {""}
            name, version, start = (sorted(names)[0] if names else ""), "", lineno
            if not names:
                problems.append(f"{path}: line {lineno}: not a yarn.lock entry header {line[:60]!r}")
            continue
        words = line.split(None, 1)
        if len(words) == 2 and words[0] == "version" and line[:2] == "  " and line[2] != " ":
            version = words[1].strip().strip('"')
    flush()
    return ParseResult(packages=unique(out), problems=problems)


def _parse_berry(path: str, doc: dict[str, Any]) -> ParseResult:
    out: list[RawPackage] = []
    problems: list[str] = []
    for key, entry in doc.items():
        if key == "__metadata":
            continue
        if not isinstance(entry, dict):
            problems.append(f"{path}: entry {str(key)[:60]!r} is not a mapping")
            continue
        if entry.get("linkType") == "soft":
            continue
        resolution = str(entry.get("resolution") or "")
        name = spec_name(resolution) if resolution else spec_name(str(key).split(",")[0])
        version = entry.get("version")
        if not name or version is None or str(version) == "":
            problems.append(f"{path}: entry {str(key)[:60]!r} has no name or version")
            continue
        checksum = str(entry.get("checksum") or "")
        out.append(raw_npm(name, str(version), declared=True, metadata={"checksum": checksum}))
    return ParseResult(packages=unique(out), problems=problems)


def parse_yarn_lock(path: str, data: bytes) -> ParseResult:
    """Every package a yarn.lock pins, classic or berry."""
    if in_node_modules(path):
        return ParseResult()
    text = data.decode("utf-8", errors="replace")
    if "\n__metadata:" not in "\n" + text:
        return _parse_classic(path, text)
    doc, problem = decode_yaml(path, text, "yarn berry lockfile")
    if problem:
        return ParseResult(problems=[problem])
    if not isinstance(doc, dict):
        return ParseResult(problems=[f"{path}: yarn berry lockfile is not a mapping"])
    return _parse_berry(path, doc)


CATALOGER = Cataloger(
    name="yarn-lock",
    package_type="npm",
    request=FileRequest(name="yarn-lock", patterns=("**/yarn.lock",), max_bytes=64 * 1024 * 1024),
    parse=parse_yarn_lock,
    to_package=npm_to_package,
    tags=("language", "image", "directory", "declared"),
)
