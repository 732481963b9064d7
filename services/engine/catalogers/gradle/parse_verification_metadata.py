"""Maven modules a Gradle build verifies: ``gradle/verification-metadata.xml``.

Gradle's dependency verification lists every module the build resolved, with the checksums
of its artifacts: ``<components><component group="org.slf4j" name="slf4j-api"
version="2.0.9">...</component></components>``. Trivy reads it as the build's dependency
list; each component is one declared module (plugins and build tools included, since the
file does not say which configuration used it).
"""

from __future__ import annotations

from services.engine.catalogers.gradle.parse_gradle_lockfile import gradle_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.safe_xml import local, parse_xml
from services.engine.requests import FileRequest


def parse_verification_metadata(path: str, data: bytes) -> ParseResult:
    """Every ``<component>``; XML that does not parse, or a DTD, is a problem."""
    root, problem = parse_xml(path, data, "verification-metadata")
    if root is None:
        return ParseResult(problems=[problem])
    packages: dict[tuple[str, str, str], RawPackage] = {}
    problems: list[str] = []
    for element in root.iter():
        if local(element.tag) != "component":
            continue
        group, name, version = (element.get(k, "").strip() for k in ("group", "name", "version"))
        if not group or not name or not version:
            problems.append(f"{path}: <component> without group, name or version")
            continue
        packages.setdefault(
            (group, name, version), RawPackage(name=name, version=version, namespace=group, declared=True)
        )
    return ParseResult(packages=list(packages.values()), problems=problems)


CATALOGER = Cataloger(
    name="gradle-verification-metadata",
    package_type="maven",
    request=FileRequest(
        name="gradle-verification-metadata",
        patterns=("**/gradle/verification-metadata.xml",),
        max_bytes=32 * 1024 * 1024,
    ),
    parse=parse_verification_metadata,
    to_package=gradle_to_package,
    tags=("language", "image", "directory", "declared"),
)
