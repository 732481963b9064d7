"""Declared C/C++ dependencies in Conan's INI-like files: ``conanfile.txt`` and ``conaninfo.txt``.

``conanfile.txt`` (a consumer's recipe) lists references under ``[requires]``, and build tools
under ``[tool_requires]``/``[build_requires]``: ``zlib/1.2.13``, ``fmt/10.1.1@user/channel``,
``openssl/[>=3.0 <4]`` (a version range, which names no version and is left out). A package
in Conan's cache carries a ``conaninfo.txt`` whose ``[requires]`` (and Conan 1's
``[full_requires]``) list what it was built against, sometimes with ``:package_id``; the
package itself is named only by its cache path, so its requirements are what is reported.
References are read by ``conan.lock``'s rules (``parse_conan_lock``); build tools carry ``dev``.
"""

from __future__ import annotations

import re

from services.engine.catalogers.cpp.parse_conan_lock import conan_reference, conan_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_SECTION = re.compile(r"^\[(?P<name>[\w]+)\]\s*$")
_RUNTIME = frozenset({"requires", "full_requires"})
_BUILD = frozenset({"tool_requires", "build_requires", "full_build_requires"})


def parse_conanfile(path: str, data: bytes) -> ParseResult:
    """Every pinned reference of the file's requirement sections; a bad reference is a problem."""
    section = ""
    seen: dict[tuple[str, str], RawPackage] = {}
    problems: list[str] = []
    for line in data.decode("utf-8", "replace").splitlines():
        text = line.split("#", 1)[0].strip()
        m = _SECTION.match(text)
        if m is not None:
            section = m["name"].lower()
            continue
        if not text or section not in _RUNTIME | _BUILD or "[" in text:
            continue  # another section, or a version range
        found = conan_reference(path, text.split(":", 1)[0].strip(), section in _BUILD)
        if isinstance(found, str):
            problems.append(found)
        else:
            seen.setdefault(found.key(), found)
    return ParseResult(packages=list(seen.values()), problems=problems)


CATALOGER = Cataloger(
    name="conan-conanfile",
    package_type="conan",
    request=FileRequest(
        name="conan-conanfile", patterns=("**/conanfile.txt", "**/conaninfo.txt"), max_bytes=1 << 20
    ),
    parse=parse_conanfile,
    to_package=conan_to_package,
    tags=("language", "image", "directory", "declared"),
)
