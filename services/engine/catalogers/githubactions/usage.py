"""GitHub Actions ``uses:`` statements: one package per action or reusable workflow a file calls.

``owner/repo@ref`` is an action, ``owner/repo/path@ref`` an action in a subdirectory, and
``owner/repo/.github/workflows/x.yml@ref`` a reusable workflow. Their purl is
``pkg:github/owner/repo@ref#path``, as syft writes it (there is no GitHub Actions purl type).
A local reference (``./.github/actions/x``) has no ref and no purl; ``docker://`` images are
container images, not actions, and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from packageurl import PackageURL

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import ParseResult, RawPackage
from services.engine.catalogers.safe_yaml import load_yaml

WORKFLOW = "workflow"
ACTION = "action"


def usage_package(uses: str) -> RawPackage | None:
    """The package a ``uses:`` value names, or None for a container image or an empty value."""
    uses = uses.strip()
    if not uses or uses.startswith("docker://"):
        return None
    name, _, ref = uses.partition("@")
    if "@" in ref:
        return None
    kind = WORKFLOW if ".github/workflows/" in name else ACTION
    return RawPackage(name=name, version=ref, declared=True, metadata={"kind": kind})


def steps_uses(steps: Any) -> Iterable[str]:
    """The ``uses`` of every step in a step list (anything else is skipped)."""
    if isinstance(steps, list):
        for step in steps:
            if isinstance(step, dict) and isinstance(step.get("uses"), str):
                yield step["uses"]


def parse_uses(path: str, data: bytes, what: str, find: Any) -> ParseResult:
    """Parse a YAML file and turn every ``uses`` that ``find(document)`` yields into one package."""
    document, problem = load_yaml(path, data, what)
    if problem:
        return ParseResult(problems=[problem])
    if not isinstance(document, dict):
        return ParseResult(problems=[f"{path}: {what} is not a mapping"] if document is not None else [])
    seen: dict[tuple[str, str], RawPackage] = {}
    for uses in find(document):
        raw = usage_package(uses)
        if raw is not None:
            seen.setdefault(raw.key(), raw)
    return ParseResult(packages=list(seen.values()))


def github_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:github/owner/repo@ref#subpath``; a local action has no purl."""
    parts = raw.name.split("/", 2)
    purl = ""
    if len(parts) >= 2 and parts[0] not in {".", ".."}:
        subpath = parts[2] if len(parts) == 3 else None
        purl = str(
            PackageURL(
                type="github", namespace=parts[0], name=parts[1], version=raw.version or None, subpath=subpath
            )
        )
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="github",
        purl=purl,
        locations=[location],
        declared=True,
        metadata=dict(raw.metadata),
    )
