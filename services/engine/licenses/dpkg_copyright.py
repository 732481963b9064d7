"""Debian's machine-readable copyright files (DEP-5): the licenses a binary package declares.

``usr/share/doc/PACKAGE/copyright`` in the copyright-format 1.0 lists ``License:`` short
names in its Files paragraphs; their union is the package's declared license, as syft
reads it. A free-form copyright file (no ``Format:`` header) declares nothing machine-readable
and yields no license rather than a guess.
"""

from __future__ import annotations

import re

from services.engine.requests import FileRequest

REQUEST = FileRequest(name="dpkg-copyright", patterns=("usr/share/doc/*/copyright",), max_bytes=1024 * 1024)

_FORMAT = re.compile(r"^Format:\s*\S*copyright-format", re.IGNORECASE | re.MULTILINE)


def copyright_package(path: str) -> str:
    """``usr/share/doc/libssl3/copyright`` -> ``libssl3``."""
    parts = path.split("/")
    return parts[-2] if len(parts) >= 2 else ""


def parse_copyright(data: bytes) -> list[str]:
    """The distinct License short names of a DEP-5 file's Files paragraphs, in order of appearance."""
    text = data.decode("utf-8", errors="replace")
    if not _FORMAT.search(text):
        return []
    found: dict[str, None] = {}
    for paragraph in re.split(r"\n\s*\n", text):
        if not re.search(r"^Files:", paragraph, re.MULTILINE):
            continue
        m = re.search(r"^License:[ \t]*(?P<name>[^\n]*)", paragraph, re.MULTILINE)
        if m and m["name"].strip():
            found[m["name"].strip()] = None
    return list(found)
