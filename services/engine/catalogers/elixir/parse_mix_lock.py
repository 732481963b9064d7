"""Declared Elixir dependencies: Mix's ``mix.lock``.

An Elixir map literal, one entry per dependency: ``"cowboy": {:hex, :cowboy, "2.9.0",
"<inner hash>", [:make, :rebar3], [deps...], "hexpm", "<outer hash>"}``. Hex entries name
the package (the second atom, which may differ from the key) and its version; ``:git`` and
``:path`` entries name a checkout, not a published version, and are left out, as syft does.
The file is Elixir code, never evaluated: each entry is matched on its own.
"""

from __future__ import annotations

import re

from services.engine.catalogers.elixir.hex import hex_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_ENTRY = re.compile(
    r'^\s*"(?P<key>[^"]+)"\s*:\s*\{\s*:(?P<kind>\w+)\s*,\s*'
    r':"?(?P<name>[\w.-]+)"?\s*,\s*"(?P<version>[^"]*)"\s*,\s*"(?P<hash>[0-9a-f]*)"'
    r'(?:.*"(?P<repo>[\w.-]+)"\s*,\s*"(?P<outer>[0-9a-f]+)"\s*\},?\s*$)?',
    re.MULTILINE,
)
_ANY = re.compile(r'^\s*"[^"]+"\s*:\s*\{\s*:(\w+)', re.MULTILINE)


def parse_mix_lock(path: str, data: bytes) -> ParseResult:
    """Hex packages; a ``:hex`` entry that cannot be read is a problem."""
    text = data.decode("utf-8", "replace")
    packages: list[RawPackage] = []
    for m in _ENTRY.finditer(text):
        if m["kind"] != "hex" or not m["version"]:
            continue
        metadata = {"pkg_hash": m["hash"], "pkg_hash_ext": m["outer"] or "", "repo": m["repo"] or ""}
        packages.append(
            RawPackage(
                name=m["name"],
                version=m["version"],
                declared=True,
                metadata={k: v for k, v in metadata.items() if v},
            )
        )
    hex_entries = sum(1 for kind in _ANY.findall(text) if kind == "hex")
    problems = (
        [f"{path}: {hex_entries - len(packages)} :hex entries unreadable"]
        if hex_entries > len(packages)
        else []
    )
    return ParseResult(packages=packages, problems=problems)


CATALOGER = Cataloger(
    name="elixir-mix-lock",
    package_type="hex",
    request=FileRequest(name="elixir-mix-lock", patterns=("**/mix.lock",), max_bytes=8 * 1024 * 1024),
    parse=parse_mix_lock,
    to_package=hex_to_package,
    tags=("language", "image", "directory", "declared"),
)
