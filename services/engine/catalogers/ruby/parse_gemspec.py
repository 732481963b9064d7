"""Installed gems: the specifications RubyGems writes, ``**/specifications/**/*.gemspec``.

That covers ``gems/<ruby>/specifications/`` (installed gems), its ``default/`` folder (gems
bundled with Ruby itself) and Debian's ``rubygems-integration`` trees. A gemspec is Ruby
code, never evaluated here: like syft, the name, version and licences are read from the
assignments RubyGems generates (``s.name = "x".freeze``, ``s.version = "1.2"``, also
``Gem::Version.new("1.2")``, ``s.licenses = ["MIT".freeze]``, and RubyGems 1.x's ``%q{...}``).
"""

from __future__ import annotations

import re

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.ruby.gem import gem_to_package
from services.engine.requests import FileRequest

# a quoted string, or %q{...} as RubyGems 1.x wrote specifications
_STR = r"""(?:["']([^"']*)["']|%q\{([^}]*)\})"""
_ASSIGN = {
    field: re.compile(rf"^\w+\.{field}\s*=\s*{value}")
    for field, value in (
        ("name", _STR),
        ("version", rf"(?:Gem::Version\.new\(\s*)?{_STR}"),
        ("license", _STR),
        ("licenses", r"\[(.*)\]"),
        ("homepage", _STR),
        ("platform", _STR),
    )
}
_ITEM = re.compile(_STR)


def parse_gemspec(path: str, data: bytes) -> ParseResult:
    """One gem; a spec without a literal name or version is a problem."""
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        line = line.strip().replace(".freeze", "")
        if not line or line.startswith("#"):
            continue
        for field, pattern in _ASSIGN.items():
            if field not in fields and (m := pattern.match(line)):
                fields[field] = next((g for g in m.groups() if g is not None), "")
                break
    name, version = fields.get("name", "").strip(), fields.get("version", "").strip()
    if not name or not version:
        missing = "name" if not name else "version"
        return ParseResult(problems=[f"{path}: no literal {missing} assignment in the gemspec"])
    if "licenses" in fields:
        items = (a or b for a, b in _ITEM.findall(fields["licenses"]))
        licenses = tuple(x.strip() for x in items if x.strip())
    else:
        licenses = (fields["license"],) if fields.get("license") else ()
    platform = fields.get("platform", "")
    metadata = {"homepage": fields.get("homepage", ""), "platform": "" if platform == "ruby" else platform}
    return ParseResult(
        packages=[
            RawPackage(
                name=name,
                version=version,
                licenses=licenses,
                metadata={k: v for k, v in metadata.items() if v},
            )
        ]
    )


CATALOGER = Cataloger(
    name="gemspec",
    package_type="gem",
    request=FileRequest(
        name="gemspec", patterns=("**/specifications/**/*.gemspec",), max_bytes=4 * 1024 * 1024
    ),
    parse=parse_gemspec,
    to_package=gem_to_package,
    tags=("language", "image", "directory"),
)
