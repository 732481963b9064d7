"""Declared gems: Bundler's ``Gemfile.lock``.

Gems are the four-space ``name (version)`` lines under ``specs:`` in the ``GEM`` (rubygems.org
and other gem servers), ``GIT``, ``PATH`` and ``PLUGIN SOURCE`` sections, as syft reads them;
six-space lines are their dependency constraints. A platform-specific gem's version carries
its platform (``nokogiri (1.16.0-x86_64-linux)``): the version is kept without it and the
platform becomes a purl qualifier, so the version compares as a RubyGems version. A lockfile
does not record which Gemfile group (development, test) asked for a gem, so all are reported.
"""

from __future__ import annotations

import re

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.ruby.gem import gem_to_package
from services.engine.requests import FileRequest

_SECTIONS = frozenset({"GEM", "GIT", "PATH", "PLUGIN SOURCE"})
_SPEC = re.compile(r"^    (?P<name>[^\s(]+) \((?P<version>[^)\s]+)\)$")
# RubyGems versions never contain "-": what follows the first one is the platform
_PLATFORM = re.compile(r"^(?P<version>[^-]+)-(?P<platform>.+)$")


def parse_gemfile_lock(path: str, data: bytes) -> ParseResult:
    """Every gem a Gemfile.lock pins."""
    out: list[RawPackage] = []
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    section = ""
    sections_seen = 0
    for lineno, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        line = line.rstrip()
        if not line:
            continue
        if not line[0].isspace():
            section = line.strip()
            sections_seen += section in _SECTIONS
            continue
        if section not in _SECTIONS or not line.startswith("    ") or line.startswith("     "):
            continue
        m = _SPEC.match(line)
        if m is None:
            problems.append(f"{path}: line {lineno}: not a 'name (version)' gem line: {line.strip()[:60]!r}")
            continue
        version, platform = m.group("version"), ""
        if pm := _PLATFORM.match(version):
            version, platform = pm.group("version"), pm.group("platform")
        key = (m.group("name"), version)
        if key in seen:
            continue
        seen.add(key)
        metadata = {"source": section.lower(), "platform": platform}
        out.append(
            RawPackage(
                name=key[0],
                version=version,
                declared=True,
                metadata={k: v for k, v in metadata.items() if v},
            )
        )
    if not sections_seen:
        problems.append(f"{path}: no GEM, GIT or PATH section: not a Gemfile.lock")
    return ParseResult(packages=out, problems=problems)


CATALOGER = Cataloger(
    name="gemfile-lock",
    package_type="gem",
    request=FileRequest(name="gemfile-lock", patterns=("**/Gemfile.lock",), max_bytes=16 * 1024 * 1024),
    parse=parse_gemfile_lock,
    to_package=gem_to_package,
    tags=("language", "image", "directory", "declared"),
)
