"""Installed Composer packages: ``vendor/composer/installed.json``.

Composer 1 writes a JSON array of package objects; Composer 2 writes
``{"packages": [...], "dev": ..., "dev-package-names": [...]}``. Every listed package is
installed, development ones included (as syft reports them); those Composer lists as
development packages carry ``dev: true`` in their metadata.
"""

from __future__ import annotations

from services.engine.catalogers.interface import Cataloger, ParseResult
from services.engine.catalogers.php.composer import composer_to_package, decode_json, read_entries
from services.engine.requests import FileRequest


def parse_installed_json(path: str, data: bytes) -> ParseResult:
    """Every package in a Composer 1 or 2 installed.json."""
    doc, problem = decode_json(path, data, "installed.json")
    if problem:
        return ParseResult(problems=[problem])
    if isinstance(doc, list):
        return read_entries(path, doc, declared=False)
    if isinstance(doc, dict) and "packages" in doc:
        dev = doc.get("dev-package-names")
        dev_names = frozenset(x for x in dev if isinstance(x, str)) if isinstance(dev, list) else frozenset()
        return read_entries(path, doc["packages"], declared=False, dev_names=dev_names)
    return ParseResult(problems=[f"{path}: installed.json is neither a package array nor has 'packages'"])


CATALOGER = Cataloger(
    name="composer-installed",
    package_type="composer",
    request=FileRequest(
        name="composer-installed", patterns=("**/vendor/composer/installed.json",), max_bytes=32 * 1024 * 1024
    ),
    parse=parse_installed_json,
    to_package=composer_to_package,
    tags=("language", "image", "directory"),
)
