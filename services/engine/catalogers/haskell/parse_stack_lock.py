"""Declared Haskell dependencies: Stack's ``stack.yaml.lock``.

YAML: each ``packages`` item has ``original`` (as stack.yaml wrote it) and ``completed``
(what was resolved); a Hackage package's ``completed.hackage`` is
``name-version@sha256:<hash>,<size>``. Git and archive packages name no Hackage release and
are left out. The resolver snapshot (``snapshots``) is not a package.
"""

from __future__ import annotations

import re
from typing import Any

from services.engine.catalogers.collect import collect
from services.engine.catalogers.haskell.hackage import hackage_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import decode_yaml
from services.engine.requests import FileRequest

_HACKAGE = re.compile(
    r"^(?P<name>[A-Za-z][\w-]*?)-(?P<version>\d[\d.]*)(?:@(?P<hash>sha256:[0-9a-f]+))?(?:,\d+)?$"
)


def hackage_reference(path: str, reference: Any) -> RawPackage | str:
    """``name-version[@sha256:hash[,size]]`` as a package, or a problem naming the file."""
    m = _HACKAGE.match(reference.strip()) if isinstance(reference, str) else None
    if m is None:
        return f"{path}: cannot read hackage reference {str(reference)[:80]!r}"
    metadata = {"pkg_hash": m["hash"]} if m["hash"] else {}
    return RawPackage(name=m["name"], version=m["version"], declared=True, metadata=metadata)


def _package(path: str, item: Any) -> RawPackage | str | None:
    completed = item.get("completed") if isinstance(item, dict) else None
    hackage = completed.get("hackage") if isinstance(completed, dict) else None
    if hackage is None:
        return None  # git, archive or a local path
    return hackage_reference(path, hackage)


def parse_stack_lock(path: str, data: bytes) -> ParseResult:
    """Hackage packages; a file that is not YAML, or a reference that cannot be read, is a problem."""
    doc, problem = decode_yaml(path, data.decode("utf-8", "replace"), "stack.yaml.lock")
    if problem:
        return ParseResult(problems=[problem])
    packages = doc.get("packages") if isinstance(doc, dict) else None
    if not isinstance(packages, list):
        return (
            ParseResult()
            if packages in (None, "")
            else ParseResult(problems=[f"{path}: 'packages' is not a list"])
        )
    return collect(_package(path, item) for item in packages)


CATALOGER = Cataloger(
    name="haskell-stack-lock",
    package_type="hackage",
    request=FileRequest(name="haskell-stack-lock", patterns=("**/stack.yaml.lock",), max_bytes=4 << 20),
    parse=parse_stack_lock,
    to_package=hackage_to_package,
    tags=("language", "image", "directory", "declared"),
)
