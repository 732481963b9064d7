"""Declared Haskell dependencies in Stack's project file: ``stack.yaml``'s ``extra-deps``.

Beside the resolver snapshot, ``extra-deps`` pins Hackage packages outside it as
``name-version`` (optionally ``@sha256:<hash>,<size>`` or ``@rev:N``); git, archive and local
entries (mappings or paths) name no Hackage release and are left out. The lock file
(``stack.yaml.lock``) has its own cataloger.
"""

from __future__ import annotations

from typing import Any

from services.engine.catalogers.collect import collect
from services.engine.catalogers.haskell.hackage import hackage_to_package
from services.engine.catalogers.haskell.parse_stack_lock import hackage_reference
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import decode_yaml
from services.engine.requests import FileRequest


def _extra_dep(path: str, item: Any) -> RawPackage | str | None:
    if not isinstance(item, str) or "/" in item or item.startswith("."):
        return None  # a git/archive mapping or a local path
    return hackage_reference(path, item.split("@rev:", 1)[0])


def parse_stack_yaml(path: str, data: bytes) -> ParseResult:
    """Every Hackage ``extra-deps`` entry; a file that is not YAML is a problem."""
    doc, problem = decode_yaml(path, data.decode("utf-8", "replace"), "stack.yaml")
    if problem:
        return ParseResult(problems=[problem])
    deps = doc.get("extra-deps") if isinstance(doc, dict) else None
    if not isinstance(deps, list):
        return ParseResult()
    return collect(_extra_dep(path, item) for item in deps)


CATALOGER = Cataloger(
    name="haskell-stack-yaml",
    package_type="hackage",
    request=FileRequest(name="haskell-stack-yaml", patterns=("**/stack.yaml",), max_bytes=1 << 20),
    parse=parse_stack_yaml,
    to_package=hackage_to_package,
    tags=("language", "image", "directory", "declared"),
)
