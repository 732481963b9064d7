"""SWI-Prolog packs: ``pack.pl``, the pack's metadata as Prolog facts.

``name(hdt).``, ``version('0.5.2').``, ``author('Name', 'mailto:...').``, ``home('url').``,
``requires(other).``. The atoms may be quoted or bare. The purl is
``pkg:swiplpack/<name>@<version>``, as syft writes it.
"""

from __future__ import annotations

import re

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_ATOM = r"""\s*(?:'(?P<q>(?:[^'\\]|\\.)*)'|"(?P<d>[^"]*)"|(?P<b>[a-z][\w]*))\s*"""
_FACT = {key: re.compile(rf"(?m)^\s*{key}\({_ATOM}[,)]") for key in ("name", "version", "home")}


def _fact(text: str, key: str) -> str:
    m = _FACT[key].search(text)
    if m is None:
        return ""
    return next((g for g in (m["q"], m["d"], m["b"]) if g is not None), "")


def parse_pack(path: str, data: bytes) -> ParseResult:
    """The pack a ``pack.pl`` describes; one without ``name`` or ``version`` is a problem."""
    text = re.sub(r"(?m)%.*$", "", data.decode("utf-8", "replace"))
    name, version = _fact(text, "name"), _fact(text, "version")
    if not name or not version:
        return ParseResult(problems=[f"{path}: pack.pl without name/1 or version/1"])
    home = _fact(text, "home")
    return ParseResult(
        packages=[RawPackage(name=name, version=version, metadata={"homepage": home} if home else {})]
    )


def swipl_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "swiplpack", location)


CATALOGER = Cataloger(
    name="swipl-pack",
    package_type="swiplpack",
    request=FileRequest(name="swipl-pack", patterns=("**/pack.pl",), max_bytes=1 << 20),
    parse=parse_pack,
    to_package=swipl_to_package,
    tags=("language", "image", "directory"),
)
