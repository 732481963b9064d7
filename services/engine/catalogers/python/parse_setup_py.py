"""Declared Python dependencies: exact pins in a ``setup.py`` (``install_requires`` and friends).

A ``setup.py`` is a program, so it is never run: its syntax tree is read with :mod:`ast` and
every string constant that is a requirement list item (``"requests==2.31.0"``) or a block of
them (``\"\"\"flask==3.0.0\\n…\"\"\".split()``) counts, as syft's regular-expression reader
does, but without matching text in comments. Only exact pins say what gets installed; a
requirement built by formatting (``f"lib=={VERSION}"``) names no version here. A file that
Python 3 cannot parse (Python 2 print statements) is read line by line for quoted pins.
"""

from __future__ import annotations

import ast
import re

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.python.parse_metadata import python_to_package
from services.engine.requests import FileRequest

# one requirement: PEP 508 name, optional extras, "==" pin, optional ";" markers
_PIN = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*"
    r"===?\s*(?P<version>[A-Za-z0-9][A-Za-z0-9.+!_-]*)\s*(?:;.*)?$"
)
_QUOTED = re.compile(r"""(?P<q>['"])(?P<body>[^'"]*?==[^'"]*?)(?P=q)""")


def _strings(data: bytes) -> list[str] | None:
    """Every string constant of the module in source order, or None when Python 3 cannot parse it."""
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return None
    found = [
        (n.lineno, n.col_offset, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    return [value for _, _, value in sorted(found)]


def _pins(candidates: list[str]) -> list[RawPackage]:
    seen: set[tuple[str, str]] = set()
    out: list[RawPackage] = []
    for candidate in candidates:
        for item in candidate.splitlines() if "\n" in candidate else [candidate]:
            match = _PIN.match(item)
            if match is None or "{" in item or "%" in item:
                continue
            key = (match["name"].lower(), match["version"])
            if key not in seen:
                seen.add(key)
                out.append(RawPackage(name=match["name"], version=match["version"], declared=True))
    return out


def parse_setup_py(path: str, data: bytes) -> ParseResult:
    """Exactly pinned requirements named anywhere in the file's string literals."""
    if b"\x00" in data[:8192]:
        return ParseResult(problems=[f"{path}: binary data in a setup.py"])
    strings = _strings(data)
    if strings is None:
        text = data.decode("utf-8", "replace")
        strings = [m["body"] for m in _QUOTED.finditer(text)]
    return ParseResult(packages=_pins(strings))


CATALOGER = Cataloger(
    name="python-setup-py",
    package_type="pypi",
    request=FileRequest(name="python-setup-py", patterns=("**/setup.py",), max_bytes=2 * 1024 * 1024),
    parse=parse_setup_py,
    to_package=python_to_package,
    tags=("language", "image", "directory", "declared"),
)
