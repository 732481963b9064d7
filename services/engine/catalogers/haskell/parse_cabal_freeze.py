"""Declared Haskell dependencies: ``cabal.project.freeze`` (``cabal freeze``).

The ``constraints`` field lists one constraint per comma-separated item, across
continuation lines: ``any.aeson ==2.0.3.0`` pins a version; ``aeson +ordered-keymap`` sets a
flag and names no version. Only ``==`` pins become packages, as syft reads the file.
"""

from __future__ import annotations

import re

from services.engine.catalogers.collect import collect
from services.engine.catalogers.haskell.hackage import hackage_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_PIN = re.compile(r"^(?:any\.)?(?P<name>[A-Za-z][\w-]*)\s*==\s*(?P<version>[\d.]+)$")


def _constraints(text: str) -> list[str]:
    """The comma-separated items of the ``constraints:`` field and its indented continuation lines."""
    items: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("constraints:"):
            inside, line = True, line.removeprefix("constraints:")
        elif line[:1] not in (" ", "\t"):
            inside = False
        if inside:
            items += [item.strip() for item in line.split(",") if item.strip()]
    return items


def parse_cabal_freeze(path: str, data: bytes) -> ParseResult:
    """Exactly pinned constraints; flag settings are not packages."""
    text = data.decode("utf-8", "replace")
    found: list[RawPackage | str | None] = []
    for item in _constraints(text):
        m = _PIN.match(item)
        if m is not None:
            found.append(RawPackage(name=m["name"], version=m["version"], declared=True))
        elif "==" in item:
            found.append(f"{path}: cannot read constraint {item[:80]!r}")
    return collect(found)


CATALOGER = Cataloger(
    name="haskell-cabal-freeze",
    package_type="hackage",
    request=FileRequest(
        name="haskell-cabal-freeze", patterns=("**/cabal.project.freeze",), max_bytes=4 << 20
    ),
    parse=parse_cabal_freeze,
    to_package=hackage_to_package,
    tags=("language", "image", "directory", "declared"),
)
