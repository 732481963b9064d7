"""Declared Maven dependencies of a Gradle build: ``gradle.lockfile`` (Gradle 6+ dependency locking).

One ``group:artifact:version=configuration,...`` line per locked module, comments starting
with ``#``, and an ``empty=...`` line naming configurations that resolved nothing (it is
not a module). Every locked module is reported, as syft and Trivy do, with its
configurations in the metadata; the older per-configuration files
(``gradle/dependency-locks/<conf>.lockfile``) carry lines without the ``=`` part.
"""

from __future__ import annotations

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import parse_lines, plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest


def _module(path: str, number: int, line: str) -> RawPackage | str | None:
    line = line.strip()
    if line.startswith("#") or line.startswith("empty="):
        return None
    coordinates, _, configurations = line.partition("=")
    parts = coordinates.strip().split(":")
    if len(parts) != 3 or not all(parts):
        return f"{path}: line {number}: not group:artifact:version: {line[:80]!r}"
    group, artifact, version = parts
    metadata = {"configurations": configurations.strip()} if configurations.strip() else {}
    return RawPackage(name=artifact, version=version, namespace=group, declared=True, metadata=metadata)


def parse_gradle_lockfile(path: str, data: bytes) -> ParseResult:
    """Locked modules; a line that is not a module coordinate is a problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ParseResult(problems=[f"{path}: not a UTF-8 text file"])
    return parse_lines(text, lambda number, line: _module(path, number, line))


def gradle_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:maven/<group>/<artifact>@<version>``, declared."""
    return plain_record(raw, "maven", location, namespace=raw.namespace)


CATALOGER = Cataloger(
    name="gradle-lockfile",
    package_type="maven",
    request=FileRequest(
        name="gradle-lockfile",
        patterns=("**/gradle.lockfile", "**/gradle/dependency-locks/*.lockfile"),
        max_bytes=8 * 1024 * 1024,
    ),
    parse=parse_gradle_lockfile,
    to_package=gradle_to_package,
    tags=("language", "image", "directory", "declared"),
)
