"""Declared NuGet dependencies of .NET Framework projects: ``packages.config`` (XML).

``<packages><package id="Name" version="1.2.3" targetFramework="net472" /></packages>``;
``developmentDependency="true"`` packages are build tools, kept but marked in the metadata.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from services.engine.catalogers.dotnet.package import nuget_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest


def parse_packages_config(path: str, data: bytes) -> ParseResult:
    """Every ``<package>`` with an id and a version; XML that does not parse is a problem."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return ParseResult(problems=[f"{path}: DTDs are not allowed in packages.config"])
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        return ParseResult(problems=[f"{path}: not well-formed XML: {exc}"])
    if root.tag != "packages":
        return ParseResult(problems=[f"{path}: root element is <{root.tag}>, not <packages>"])
    packages: list[RawPackage] = []
    problems: list[str] = []
    for element in root.iter("package"):
        name, version = element.get("id", "").strip(), element.get("version", "").strip()
        if not name or not version:
            problems.append(
                f"{path}: <package> without id or version: {ET.tostring(element, 'unicode').strip()}"
            )
            continue
        metadata: dict[str, str] = {}
        if element.get("targetFramework"):
            metadata["framework"] = element.get("targetFramework", "")
        if element.get("developmentDependency", "").lower() == "true":
            metadata["development"] = "true"
        packages.append(RawPackage(name=name, version=version, declared=True, metadata=metadata))
    return ParseResult(packages=packages, problems=problems)


CATALOGER = Cataloger(
    name="dotnet-packages-config",
    package_type="nuget",
    request=FileRequest(
        name="dotnet-packages-config", patterns=("**/packages.config",), max_bytes=4 * 1024 * 1024
    ),
    parse=parse_packages_config,
    to_package=nuget_to_package,
    tags=("language", "image", "directory", "declared"),
)
