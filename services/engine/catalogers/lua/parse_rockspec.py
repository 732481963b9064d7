"""Lua rocks: a ``*.rockspec`` (LuaRocks' package description, a Lua table script).

``package = "luasocket"``, ``version = "3.1.0-1"`` (upstream version, ``-`` rockspec
revision) and ``description = { license = "MIT", ... }``. Strings are ``"..."``, ``'...'`` or
``[[...]]``. The rockspec is never run: the fields are read as the assignments they are, at
the top level of the file. The purl is ``pkg:luarocks/<name>@<version>``, as syft writes it.
"""

from __future__ import annotations

import re

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_STRING = r"""(?:"(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)'|\[\[(?P<lb>[^\]]*)\]\])"""
_TOP = {key: re.compile(rf"^{key}\s*=\s*{_STRING}", re.MULTILINE) for key in ("package", "version")}
_LICENSE = re.compile(rf"\blicense\s*=\s*{_STRING}")
_COMMENT = re.compile(r"--\[(=*)\[.*?\]\1\]|--[^\n]*", re.DOTALL)


def _value(m: re.Match[str] | None) -> str:
    if m is None:
        return ""
    return next((g for g in (m["dq"], m["sq"], m["lb"]) if g is not None), "").strip()


def parse_rockspec(path: str, data: bytes) -> ParseResult:
    """The rock a rockspec describes; one without ``package`` or ``version`` is a problem."""
    text = _COMMENT.sub("", data.decode("utf-8", "replace"))
    name, version = (_value(_TOP[key].search(text)) for key in ("package", "version"))
    if not name or not version:
        return ParseResult(problems=[f"{path}: rockspec without package or version"])
    license_name = _value(_LICENSE.search(text))
    return ParseResult(
        packages=[RawPackage(name=name, version=version, licenses=(license_name,) if license_name else ())]
    )


def luarocks_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "luarocks", location)


CATALOGER = Cataloger(
    name="lua-rockspec",
    package_type="luarocks",
    request=FileRequest(name="lua-rockspec", patterns=("**/*.rockspec",), max_bytes=1 << 20),
    parse=parse_rockspec,
    to_package=luarocks_to_package,
    tags=("language", "image", "directory"),
)
