"""Declared Erlang dependencies: rebar3's ``rebar.lock``.

An Erlang term: ``{"1.2.0", [{<<"certifi">>, {pkg, <<"certifi">>, <<"2.9.0">>}, 1}, ...]}.``
followed by the package hashes. ``pkg`` entries are Hex packages (the inner name is the Hex
package, the outer the application); ``git`` entries name a checkout and are left out, as
syft does. rebar3 1.x files are a bare list of the same entries.
"""

from __future__ import annotations

import re

from services.engine.catalogers.elixir.hex import hex_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_PKG = re.compile(
    r'\{\s*<<"(?P<app>[^"]+)">>\s*,\s*\{\s*pkg\s*,\s*<<"(?P<name>[^"]+)">>\s*,\s*<<"(?P<version>[^"]+)">>'
)
_ENTRIES = re.compile(r'\{\s*<<"[^"]+">>\s*,\s*\{\s*pkg\b')


def parse_rebar_lock(path: str, data: bytes) -> ParseResult:
    """Hex packages; a ``pkg`` entry that cannot be read is a problem."""
    text = data.decode("utf-8", "replace")
    packages = [
        RawPackage(name=m["name"], version=m["version"], declared=True, metadata={"app": m["app"]})
        for m in _PKG.finditer(text)
    ]
    unread = len(_ENTRIES.findall(text)) - len(packages)
    return ParseResult(
        packages=packages, problems=[f"{path}: {unread} pkg entries unreadable"] if unread else []
    )


CATALOGER = Cataloger(
    name="erlang-rebar-lock",
    package_type="hex",
    request=FileRequest(name="erlang-rebar-lock", patterns=("**/rebar.lock",), max_bytes=8 * 1024 * 1024),
    parse=parse_rebar_lock,
    to_package=hex_to_package,
    tags=("language", "image", "directory", "declared"),
)
