"""Declared NuGet dependencies of an SDK-style .NET project: ``*.csproj``, ``*.fsproj``, ``*.vbproj``.

``<ItemGroup><PackageReference Include="Serilog" Version="3.1.1" /></ItemGroup>``; the
version may be a child element, and may name an MSBuild property (``$(SerilogVersion)``) set
in one of the file's ``<PropertyGroup>``s. A reference without a version gets it from central
package management (``Directory.Packages.props``, read by its own cataloger) and is left to
it; one whose property this file does not set is left out too. ``PrivateAssets="all"`` marks a
build-time-only reference (analyzers, source generators, test adapters): it does not ship
and is left out.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from services.engine.catalogers.dotnet.package import nuget_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.safe_xml import local, parse_xml
from services.engine.requests import FileRequest

_PROPERTY = re.compile(r"\$\(([A-Za-z_][\w.-]*)\)")


def _properties(project: ET.Element) -> dict[str, str]:
    return {
        local(prop.tag): (prop.text or "").strip()
        for group in project
        if local(group.tag) == "PropertyGroup"
        for prop in group
        if (prop.text or "").strip()
    }


def _reference(element: ET.Element, props: dict[str, str]) -> RawPackage | None:
    attrs = {k.lower(): v.strip() for k, v in element.attrib.items()}
    child = {local(c.tag).lower(): (c.text or "").strip() for c in element}
    name = attrs.get("include", "")
    private = attrs.get("privateassets") or child.get("privateassets", "")
    if not name or private.lower() == "all":
        return None
    version = _PROPERTY.sub(lambda m: props.get(m[1], m[0]), attrs.get("version") or child.get("version", ""))
    if not version or "$(" in version:
        return None
    metadata = {"condition": attrs["condition"]} if attrs.get("condition") else {}
    return RawPackage(name=name, version=version, declared=True, metadata=metadata)


def parse_project_file(path: str, data: bytes) -> ParseResult:
    """Every ``PackageReference`` this file pins; XML that does not parse is a problem."""
    project, problem = parse_xml(path, data, "Project")
    if project is None:
        return ParseResult(problems=[problem])
    props = _properties(project)
    packages = [
        raw
        for group in project
        if local(group.tag) == "ItemGroup"
        for element in group
        if local(element.tag) == "PackageReference" and (raw := _reference(element, props)) is not None
    ]
    return ParseResult(packages=packages)


CATALOGER = Cataloger(
    name="dotnet-project-file",
    package_type="nuget",
    request=FileRequest(
        name="dotnet-project-file",
        patterns=("**/*.csproj", "**/*.fsproj", "**/*.vbproj"),
        max_bytes=4 * 1024 * 1024,
    ),
    parse=parse_project_file,
    to_package=nuget_to_package,
    tags=("language", "image", "directory", "declared"),
)
