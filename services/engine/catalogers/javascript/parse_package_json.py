"""Installed npm packages: each package root's ``package.json``.

A package root is ``node_modules/<name>/`` or ``node_modules/@scope/<name>/`` at any depth
(npm, yarn and pnpm's ``.pnpm/<id>/node_modules/<name>`` layouts), or Debian's
``usr/share/nodejs/<name>/`` (and the ``usr/lib/[<triplet>/]nodejs`` architecture-specific
trees). The request's globs select only roots: ``package.json`` files deeper inside a
package (``dist/package.json`` stubs holding ``{"type": "module"}``, test fixtures) are
not packages. syft 1.18.1 reads every ``**/package.json`` instead and keeps those with a
name and a version, so it also reports project manifests and stray manifests such as a
VS Code extension shipped inside a gem.
"""

from __future__ import annotations

from services.engine.catalogers.interface import Cataloger, ParseResult
from services.engine.catalogers.javascript.npm import decode_json, licenses_of, npm_to_package, raw_npm
from services.engine.requests import FileRequest

_ROOTS = ("**/node_modules", "usr/share/nodejs", "usr/lib/nodejs", "usr/lib/*/nodejs")


def parse_package_json(path: str, data: bytes) -> ParseResult:
    """One installed package; a manifest without a name or version is a problem."""
    doc, problem = decode_json(path, data, "package.json")
    if problem:
        return ParseResult(problems=[problem])
    if not isinstance(doc, dict):
        return ParseResult(problems=[f"{path}: package.json is not a JSON object"])
    name, version = doc.get("name"), doc.get("version")
    if not isinstance(name, str) or not name.strip():
        return ParseResult(problems=[f"{path}: package.json has no name"])
    if not isinstance(version, str) or not version.strip():
        return ParseResult(problems=[f"{path}: package {name} has no version"])
    homepage = doc.get("homepage")
    return ParseResult(
        packages=[
            raw_npm(
                name.strip(),
                version.strip(),
                licenses=licenses_of(doc),
                metadata={"homepage": homepage if isinstance(homepage, str) else ""},
            )
        ]
    )


CATALOGER = Cataloger(
    name="npm-package-json",
    package_type="npm",
    request=FileRequest(
        name="npm-package-json",
        patterns=tuple(p for root in _ROOTS for p in (f"{root}/*/package.json", f"{root}/@*/*/package.json")),
        max_bytes=4 * 1024 * 1024,
    ),
    parse=parse_package_json,
    to_package=npm_to_package,
    tags=("language", "image", "directory"),
)
