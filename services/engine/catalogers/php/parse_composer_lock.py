"""Declared Composer dependencies: ``composer.lock``.

Only the ``packages`` list is reported; ``packages-dev`` (require-dev) is left out, as syft
and Trivy (without ``--include-dev-deps``) do.
"""

from __future__ import annotations

from services.engine.catalogers.interface import Cataloger, ParseResult
from services.engine.catalogers.php.composer import composer_to_package, decode_json, read_entries
from services.engine.requests import FileRequest


def parse_composer_lock(path: str, data: bytes) -> ParseResult:
    """The production packages a composer.lock pins."""
    doc, problem = decode_json(path, data, "composer.lock")
    if problem:
        return ParseResult(problems=[problem])
    if not isinstance(doc, dict):
        return ParseResult(problems=[f"{path}: composer.lock is not a JSON object"])
    return read_entries(path, doc.get("packages") or [], declared=True)


CATALOGER = Cataloger(
    name="composer-lock",
    package_type="composer",
    request=FileRequest(name="composer-lock", patterns=("**/composer.lock",), max_bytes=32 * 1024 * 1024),
    parse=parse_composer_lock,
    to_package=composer_to_package,
    tags=("language", "image", "directory", "declared"),
)
