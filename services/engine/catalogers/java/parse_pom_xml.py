"""Declared Maven dependencies of a project: ``pom.xml``.

The project itself (``groupId:artifactId:version``, group and version inherited from
``<parent>`` when absent) is reported, as Trivy does, marked ``root``; then every
``<dependencies>/<dependency>`` of the project. Versions are resolved as Maven does within
the one file: ``${...}`` from ``<properties>`` (recursively), ``${project.version}``,
``${project.parent.version}`` and friends, and a missing version from the file's own
``<dependencyManagement>``. What needs another file (a parent POM, an imported BOM) or a
version range cannot be resolved from this one and is left out. ``test``-scoped
dependencies do not ship and are left out, as Trivy does by default (npm dev dependencies
are left out the same way).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from services.engine.catalogers.gradle.parse_gradle_lockfile import gradle_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.safe_xml import local, parse_xml
from services.engine.requests import FileRequest

_PROPERTY = re.compile(r"\$\{([^}]+)\}")
_DEPTH = 8  # property references deeper than this are circular or hostile


def _child(element: ET.Element | None, name: str) -> ET.Element | None:
    if element is None:
        return None
    return next((c for c in element if local(c.tag) == name), None)


def _text(element: ET.Element | None, name: str) -> str:
    child = _child(element, name)
    return (child.text or "").strip() if child is not None else ""


def _properties(project: ET.Element) -> dict[str, str]:
    parent = _child(project, "parent")
    props = {local(p.tag): (p.text or "").strip() for p in (_child(project, "properties") or [])}
    for key in ("groupId", "artifactId", "version"):
        value = _text(project, key) or (_text(parent, key) if key != "artifactId" else "")
        for prefix in ("project.", "pom.", ""):
            props.setdefault(prefix + key, value)
        props.setdefault(f"project.parent.{key}", _text(parent, key))
        props.setdefault(f"parent.{key}", _text(parent, key))
    return props


def _resolve(value: str, props: dict[str, str]) -> str:
    """``value`` with every ``${name}`` replaced; "" when one cannot be resolved."""
    for _ in range(_DEPTH):
        if "${" not in value:
            return value
        value = _PROPERTY.sub(lambda m: props.get(m[1], "\x00"), value)
        if "\x00" in value:
            return ""
    return ""


def _managed(project: ET.Element, props: dict[str, str]) -> dict[tuple[str, str], str]:
    deps = _child(_child(project, "dependencyManagement"), "dependencies")
    return {
        (_resolve(_text(d, "groupId"), props), _resolve(_text(d, "artifactId"), props)): _text(d, "version")
        for d in (deps if deps is not None else [])
        if local(d.tag) == "dependency"
    }


def _dependency(
    element: ET.Element, props: dict[str, str], managed: dict[tuple[str, str], str]
) -> RawPackage | None:
    group, artifact = (_resolve(_text(element, k), props) for k in ("groupId", "artifactId"))
    scope = _text(element, "scope") or "compile"
    if not group or not artifact or scope == "test":
        return None
    version = _resolve(_text(element, "version") or managed.get((group, artifact), ""), props)
    if not version or version[0] in "[(":
        return None  # managed by a parent or a BOM, or a range: not this file's to say
    metadata = {"scope": scope, **({"optional": "true"} if _text(element, "optional") == "true" else {})}
    return RawPackage(name=artifact, version=version, namespace=group, declared=True, metadata=metadata)


def parse_pom_xml(path: str, data: bytes) -> ParseResult:
    """The project and the dependencies this file resolves; XML that does not parse is a problem."""
    project, problem = parse_xml(path, data, "project")
    if project is None:
        return ParseResult(problems=[problem])
    props = _properties(project)
    packages: list[RawPackage] = []
    group, artifact, version = (
        _resolve(props[k], props) for k in ("project.groupId", "project.artifactId", "project.version")
    )
    if group and artifact and version:
        packages.append(
            RawPackage(
                name=artifact, version=version, namespace=group, declared=True, metadata={"root": "true"}
            )
        )
    managed = _managed(project, props)
    deps = _child(project, "dependencies")
    for element in deps if deps is not None else []:
        if local(element.tag) == "dependency" and (raw := _dependency(element, props, managed)) is not None:
            packages.append(raw)
    return ParseResult(packages=packages)


CATALOGER = Cataloger(
    name="java-pom-xml",
    package_type="maven",
    request=FileRequest(name="java-pom-xml", patterns=("**/pom.xml",), max_bytes=8 * 1024 * 1024),
    parse=parse_pom_xml,
    to_package=gradle_to_package,
    tags=("language", "image", "directory", "declared"),
)
