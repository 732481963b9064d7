"""Homebrew formulae: installed kegs (``Cellar/<name>/<version>/.brew/<name>.rb``) and tap formulae.

An installed keg keeps a copy of its formula (Ruby) in ``.brew``; the keg's directories name
the formula and its installed version. A formula in a tap
(``Homebrew/Library/Taps/<org>/<tap>/Formula/<name>.rb``) is named by its file and carries
its version only when it says ``version "x"``. The formula's own ``desc``, ``homepage`` and
``license`` lines (a quoted string after the word, inside ``class X < Formula``) are read
as written; the Ruby is never run. The purl is ``pkg:brew/<name>@<version>``, as syft's.
"""

from __future__ import annotations

import re

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_FIELD = re.compile(r'^\s*(desc|homepage|license|version)[ \t]+"([^"\n]*)"', re.MULTILINE)
_CLASS = re.compile(r"^\s*class\s+\w+\s*<\s*Formula\b", re.MULTILINE)


def _from_path(path: str) -> tuple[str, str, str]:
    """(name, version, tap) the formula's path states."""
    parts = path.split("/")
    if ".brew" in parts:
        i = len(parts) - 1 - parts[::-1].index(".brew")
        if i >= 2:
            return parts[i - 2], parts[i - 1], ""
    tap = path.split("Library/Taps/", 1)[1].split("/")[:2] if "Library/Taps/" in path else []
    return parts[-1].removesuffix(".rb"), "", "/".join(tap)


def parse_formula(path: str, data: bytes) -> ParseResult:
    """The formula a keg or tap holds; one whose version cannot be known names no package."""
    text = data.decode("utf-8", "replace")
    start = _CLASS.search(text)
    if start is None:
        return ParseResult(problems=[f"{path}: no `class ... < Formula` declaration"])
    fields: dict[str, str] = {}
    for m in _FIELD.finditer(text, start.end()):
        fields.setdefault(m[1], m[2])
    name, version, tap = _from_path(path)
    version = version or fields.get("version", "")
    if not version:
        return ParseResult()
    metadata = {
        k: v
        for k, v in (
            ("tap", tap),
            ("homepage", fields.get("homepage", "")),
            ("description", fields.get("desc", "")),
        )
        if v
    }
    licenses = (fields["license"],) if fields.get("license") else ()
    return ParseResult(
        packages=[RawPackage(name=name, version=version, licenses=licenses, metadata=metadata)]
    )


def brew_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "brew", location)


CATALOGER = Cataloger(
    name="homebrew-formula",
    package_type="brew",
    request=FileRequest(
        name="homebrew-formula",
        patterns=("**/Cellar/*/*/.brew/*.rb", "**/Homebrew/Library/Taps/*/*/Formula/*.rb"),
        max_bytes=1 << 20,
    ),
    parse=parse_formula,
    to_package=brew_to_package,
    tags=("image", "directory"),
)
