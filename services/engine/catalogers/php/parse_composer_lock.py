"""Declared Composer dependencies: ``composer.lock``.

Both lists are reported: ``packages`` and ``packages-dev`` (what ``require-dev`` pulled in,
with ``dev: true`` in the metadata), as the installed.json cataloger does for what
``composer install`` put in ``vendor/``: a default ``composer install`` installs the dev
packages too, so an image built from the lockfile carries them. A package in both lists
(it cannot be, but hand-edited files exist) is reported once, as production.
"""

from __future__ import annotations

from typing import Any

from services.engine.catalogers.interface import Cataloger, ParseResult
from services.engine.catalogers.php.composer import composer_to_package, decode_json, read_entries
from services.engine.requests import FileRequest


def _names(entries: Any) -> frozenset[str]:
    if not isinstance(entries, list):
        return frozenset()
    return frozenset(e["name"] for e in entries if isinstance(e, dict) and isinstance(e.get("name"), str))


def parse_composer_lock(path: str, data: bytes) -> ParseResult:
    """The production and development packages a composer.lock pins."""
    doc, problem = decode_json(path, data, "composer.lock")
    if problem:
        return ParseResult(problems=[problem])
    if not isinstance(doc, dict):
        return ParseResult(problems=[f"{path}: composer.lock is not a JSON object"])
    prod = read_entries(path, doc.get("packages") or [], declared=True)
    dev_entries = doc.get("packages-dev") or []
    dev = read_entries(path, dev_entries, declared=True, dev_names=_names(dev_entries))
    seen = {p.key() for p in prod.packages}
    return ParseResult(
        packages=prod.packages + [p for p in dev.packages if p.key() not in seen],
        problems=prod.problems + [f"{m} (packages-dev)" for m in dev.problems],
    )


CATALOGER = Cataloger(
    name="composer-lock",
    package_type="composer",
    request=FileRequest(name="composer-lock", patterns=("**/composer.lock",), max_bytes=32 * 1024 * 1024),
    parse=parse_composer_lock,
    to_package=composer_to_package,
    tags=("language", "image", "directory", "declared"),
)
