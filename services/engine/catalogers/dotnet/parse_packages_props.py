"""Declared NuGet dependencies: central package files (``Directory.Packages.props``, ``packages.props``).

MSBuild XML with ``<PackageVersion Include="Name" Version="1.2.3" />`` (central package
management) or ``<PackageReference Include|Update="Name" Version="1.2.3" />`` items. Each item
with a literal version is a declared package; a version built from an MSBuild property
(``$(JsonVersion)``) or a range (``[1.0,2.0)``) names no single version here. The XML is not
parsed into a tree (no entity expansion): each item element is read on its own.
"""

from __future__ import annotations

import re

from services.engine.catalogers.dotnet.package import nuget_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_ITEM = re.compile(r"<\s*(PackageVersion|PackageReference|GlobalPackageReference)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_CHILD_VERSION = re.compile(r"\s*<\s*Version\s*>\s*([^<]+?)\s*<\s*/\s*Version\s*>", re.IGNORECASE)


def parse_packages_props(path: str, data: bytes) -> ParseResult:
    """Items with a literal version; an item without a name is a problem."""
    text = data.decode("utf-8-sig", "replace")
    packages: list[RawPackage] = []
    problems: list[str] = []
    for m in _ITEM.finditer(text):
        attrs = {k.lower(): v.strip() for k, v in _ATTR.findall(m[2])}
        name = attrs.get("include") or attrs.get("update") or ""
        version = attrs.get("version", "")
        if not version and not m[2].rstrip().endswith("/"):
            child = _CHILD_VERSION.match(text, m.end())
            version = child[1] if child else ""
        if not name:
            problems.append(f"{path}: <{m[1]}> without Include or Update")
            continue
        if not version or "$(" in version or version[0] in "[(":
            continue  # no version here, a property, or a range
        packages.append(RawPackage(name=name, version=version, declared=True, metadata={"item": m[1]}))
    return ParseResult(packages=packages, problems=problems)


CATALOGER = Cataloger(
    name="dotnet-packages-props",
    package_type="nuget",
    request=FileRequest(
        name="dotnet-packages-props",
        patterns=("**/Directory.Packages.props", "**/packages.props"),
        max_bytes=8 << 20,
    ),
    parse=parse_packages_props,
    to_package=nuget_to_package,
    tags=("language", "image", "directory", "declared"),
)
