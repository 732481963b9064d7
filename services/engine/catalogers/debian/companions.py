"""The files dpkg keeps beside its status database, read as the dpkg cataloger's companions.

* File lists: ``var/lib/dpkg/info/NAME[:ARCH].list`` (one absolute path a line), or in
  distroless images ``var/lib/dpkg/status.d/NAME.md5sums``: the paths each package installed,
  which mark language packages shipped inside an OS package as owned by it.
* Copyright: ``usr/share/doc/PACKAGE/copyright`` in the machine-readable copyright-format 1.0
  (DEP-5) lists ``License:`` short names in its Files paragraphs; their union is the package's
  declared license, as syft reads it. A free-form copyright file (no ``Format:`` header)
  declares nothing machine-readable and yields no license rather than a guess.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from services.engine.catalogers.interface import Companion
from services.engine.requests import FileRequest

FILE_LISTS_REQUEST = FileRequest(
    name="dpkg-file-lists",
    patterns=("var/lib/dpkg/info/*.list", "var/lib/dpkg/status.d/*.md5sums"),
    max_bytes=32 * 1024 * 1024,
)
COPYRIGHT_REQUEST = FileRequest(
    name="dpkg-copyright", patterns=("usr/share/doc/*/copyright",), max_bytes=1024 * 1024
)

_FORMAT = re.compile(r"^Format:\s*\S*copyright-format", re.IGNORECASE | re.MULTILINE)


def dpkg_list_package(path: str) -> str:
    """The package a dpkg list file belongs to: ``info/libssl3:amd64.list`` -> ``libssl3``."""
    base = path.rsplit("/", 1)[-1]
    for suffix in (".list", ".md5sums"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base.split(":", 1)[0]


def iter_dpkg_list(path: str, data: bytes) -> Iterator[str]:
    """Owned paths (no leading slash) of a ``.list`` (one absolute path a line) or ``.md5sums`` file.

    Lines are read one at a time: a 32 MiB list never becomes a list of millions of strings.
    """
    md5sums = path.endswith(".md5sums")
    for raw in io.BytesIO(data):
        line = raw.decode("utf-8", errors="backslashreplace")
        if md5sums:
            parts = line.split(None, 1)
            if len(parts) != 2:
                continue
            line = parts[1]
        entry = line.strip().lstrip("/")
        if entry and entry != ".":
            yield entry


def parse_dpkg_list(path: str, data: bytes) -> list[str]:
    """``iter_dpkg_list`` as a list (small files, tests)."""
    return list(iter_dpkg_list(path, data))


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


FILE_LISTS = Companion(request=FILE_LISTS_REQUEST, package=dpkg_list_package, files=iter_dpkg_list)
COPYRIGHT = Companion(request=COPYRIGHT_REQUEST, package=copyright_package, licenses=parse_copyright)
