"""The ``[[package]]`` tables that TOML lockfiles share (poetry.lock, uv.lock, pdm.lock, Cargo.lock).

PEP 751's ``pylock.toml`` has the same shape under the key ``packages``.

One reader for the common shape: a file that is not TOML, a ``package`` key that is not an
array of tables, or an entry without a name or version is a problem naming the file; each
format decides which entries to skip and what metadata to keep.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from typing import Any

from services.engine.catalogers.interface import ParseResult, RawPackage

Entry = dict[str, Any]


def parse_package_tables(
    path: str,
    data: bytes,
    label: str,
    build: Callable[[Entry, str, str], RawPackage | None],
    skip: Callable[[Entry], bool] = lambda entry: False,
    key: str = "package",
) -> ParseResult:
    """Raw packages from a TOML lockfile: ``build(entry, name, version)`` makes (or skips, with None) each.

    ``skip`` drops an entry before its name and version are checked (a project's own entry).
    """
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return ParseResult(problems=[f"{path}: not a valid {label}: {exc}"])
    entries = doc.get(key, [])
    if not isinstance(entries, list):
        return ParseResult(problems=[f"{path}: '{key}' is not an array of tables"])
    packages: list[RawPackage] = []
    problems: list[str] = []
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            problems.append(f"{path}: package #{n} is not a table")
            continue
        if skip(entry):
            continue
        name, version = entry.get("name"), entry.get("version")
        if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
            problems.append(f"{path}: package #{n} has no name or version")
            continue
        raw = build(entry, name, version)
        if raw is not None:
            packages.append(raw)
    return ParseResult(packages=packages, problems=problems)
