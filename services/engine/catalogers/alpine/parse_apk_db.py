"""apk's database: ``lib/apk/db/installed``.

One stanza per package, one ``X:value`` line per field (apk-tools' "installed database"
format): ``P`` name, ``V`` version, ``A`` arch, ``o`` origin (source package), ``L``
license, ``F`` a directory and ``R`` a file in it.
"""

from __future__ import annotations

import io

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import os_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.problems import Problems
from services.engine.requests import FileRequest

FIELD_MAX = 4096  # characters of a name or version: real ones are far shorter


def parse_apk_db(path: str, data: bytes) -> ParseResult:
    """Parse an apk installed database into raw packages; malformed stanzas become problems.

    Linear in the file's size, lines read lazily; a file of garbage lines gives a capped
    list of problems (``Problems``), not one unknown per line.
    """
    text = data.decode("utf-8", errors="replace")
    packages: list[RawPackage] = []
    problems = Problems(path)
    fields: dict[str, str] = {}
    files: list[str] = []
    directory = ""
    start = 1

    def flush() -> None:
        if not fields:
            return
        name, version = fields.get("P", ""), fields.get("V", "")
        if not name or not version:
            problems.add(f"{path}: stanza at line {start}: no {'P' if not name else 'V'} field")
            return
        if len(name) > FIELD_MAX or len(version) > FIELD_MAX:
            problems.add(f"{path}: stanza at line {start}: P or V field over {FIELD_MAX} characters")
            return
        packages.append(
            RawPackage(
                name=name,
                version=version,
                source_name=fields.get("o", name),
                source_version=version,
                arch=fields.get("A", ""),
                licenses=(fields["L"],) if fields.get("L") else (),
                files=tuple(files),
            )
        )

    for lineno, raw in enumerate(io.StringIO(text, newline="\n"), 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            flush()
            fields, files, directory = {}, [], ""
            start = lineno + 1
            continue
        if len(line) < 2 or line[1] != ":":
            problems.add(f"{path}: line {lineno}: malformed line {line[:60]!r}")
            continue
        key, value = line[0], line[2:]
        if key == "F":
            directory = value
        elif key == "R":
            files.append(f"{directory}/{value}" if directory else value)
        elif key not in fields:
            fields[key] = value
    flush()
    return ParseResult(packages=packages, problems=problems.items())


def apk_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """A purl-bearing apk package: ``pkg:apk/alpine/NAME@VERSION?arch=..&distro=..``."""
    return os_record(raw, distro, location, purl_type="apk", default_namespace="alpine")


CATALOGER = Cataloger(
    name="apk-db",
    package_type="apk",
    request=FileRequest(name="apk-db", patterns=("lib/apk/db/installed",), shadowed=True),
    parse=parse_apk_db,
    to_package=apk_to_package,
    tags=("os", "image", "directory"),
)
