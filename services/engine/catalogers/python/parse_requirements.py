"""Declared Python dependencies: pip requirements files (``requirements.txt``, ``dev-requirements.txt``).

Only exact pins (``name==1.2`` or ``name===1.2``) say what gets installed, so only they become
packages, as in syft. Comments, environment markers (after ``;``), extras (``name[extra]``),
continuation lines, per-requirement options (``--hash=…``) are read as pip reads them; option
lines (``-r other.txt``, ``-c``, ``-e``, ``--index-url``) and direct references
(``name @ https://…``) name nothing pinned here. A file named by ``-r`` is read on its own
when the walk delivers it. Files saved by Windows tools (PowerShell's ``pip freeze >``) are
UTF-16 with a byte-order mark, or UTF-8 with one; both are read, as pip reads them.
"""

from __future__ import annotations

import codecs
import re

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.python.parse_metadata import python_to_package
from services.engine.requests import FileRequest

# PEP 508 name, optional extras, then exactly one pin clause
_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"
    r"(?:\[(?P<extras>[^\]]*)\])?\s*"
    r"(?P<op>===|==)\s*(?P<version>[A-Za-z0-9][^\s,;*]*)$"
)
_COMMENT = re.compile(r"(^|\s)#.*$")
_OPTION = re.compile(r"\s--?[A-Za-z][\w-]*(?:[= ]\S+)?")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with ``\\`` continuations joined, numbered by their first physical line."""
    out: list[tuple[int, str]] = []
    buf, start = "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if not buf:
            start = number
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        out.append((start, buf + line))
        buf = ""
    if buf:
        out.append((start, buf))
    return out


def _decode(data: bytes) -> str:
    """The text, by its byte-order mark (UTF-16 LE/BE, UTF-8) or else as UTF-8; raises on bad bytes."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def parse_requirements(path: str, data: bytes) -> ParseResult:
    """Pinned requirements as declared packages; a pin that cannot be read is a problem."""
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        return ParseResult(problems=[f"{path}: not a UTF-8 or UTF-16 text file"])
    if "\x00" in text:
        return ParseResult(problems=[f"{path}: binary data in a requirements file"])
    packages: list[RawPackage] = []
    problems: list[str] = []
    for number, line in _logical_lines(text):
        line = _COMMENT.sub("", line).strip()
        if not line or line.startswith("-"):
            continue  # blank, comment, or an option line (-r, -c, -e, --index-url, ...)
        requirement, _, markers = line.partition(";")
        requirement = _OPTION.sub("", " " + requirement).strip()
        if "==" not in requirement or " @ " in requirement or "://" in requirement:
            continue  # unpinned, a range, or a direct reference: not what gets installed
        match = _PIN.match(requirement)
        if match is None:
            if "*" not in requirement and "," not in requirement:
                problems.append(f"{path}: line {number}: cannot read requirement {requirement!r}")
            continue  # "==1.*" and combined specifiers are not exact pins
        metadata: dict[str, str] = {}
        if match["extras"]:
            metadata["extras"] = ",".join(e.strip() for e in match["extras"].split(",") if e.strip())
        if markers.strip():
            metadata["markers"] = markers.strip()
        packages.append(
            RawPackage(name=match["name"], version=match["version"], declared=True, metadata=metadata)
        )
    return ParseResult(packages=packages, problems=problems)


CATALOGER = Cataloger(
    name="python-requirements",
    package_type="pypi",
    request=FileRequest(
        name="python-requirements",
        patterns=("**/*requirements*.txt",),
        max_bytes=4 * 1024 * 1024,
    ),
    parse=parse_requirements,
    to_package=python_to_package,
    tags=("language", "image", "directory", "declared"),
)
