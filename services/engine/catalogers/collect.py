"""Shared steps of the small catalogers: gathering per-entry results, and the plain package record.

An entry reader returns a package, a problem (text naming the file and the entry), or None
for an entry that names no package (a comment, a local checkout, a standard library);
``collect`` turns those into one ``ParseResult``, ``parse_lines`` does it for line-per-package
formats (gradle.lockfile, rpm container manifests). ``plain_record`` is the
``PackageRecord`` of ecosystems whose purl is ``pkg:<type>/[<namespace>/]<name>@<version>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import ParseResult, RawPackage
from services.engine.purl import build_purl, os_qualifiers

Found = RawPackage | str | None
# (line number, the line as written) -> a package, a problem, or None
LineReader = Callable[[int, str], Found]


def collect(found: Iterable[Found]) -> ParseResult:
    """Packages and problems, in order; None entries are dropped."""
    packages: list[RawPackage] = []
    problems: list[str] = []
    for item in found:
        if isinstance(item, str):
            problems.append(item)
        elif item is not None:
            packages.append(item)
    return ParseResult(packages=packages, problems=problems)


def parse_lines(text: str, read: LineReader) -> ParseResult:
    """Every non-blank line through ``read``; problems are kept and parsing goes on."""
    return collect(read(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip())


def plain_record(
    raw: RawPackage,
    ptype: str,
    location: str,
    *,
    namespace: str = "",
    qualifiers: Mapping[str, str] | None = None,
    purl: str = "",
) -> PackageRecord:
    """The record of ``raw`` with a purl built from its name and version (or the ``purl`` given)."""
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type=ptype,
        purl=purl or build_purl(ptype, raw.name, raw.version, namespace=namespace, qualifiers=qualifiers),
        licenses=list(raw.licenses),
        locations=[location],
        declared=raw.declared,
        metadata=dict(raw.metadata),
    )


def os_record(
    raw: RawPackage, distro: Distro | None, location: str, *, purl_type: str, default_namespace: str
) -> PackageRecord:
    """An OS package database's entry: ``pkg:<type>/<distro id>/NAME@VERSION?arch=..&distro=..``,
    with ``upstream`` naming the source package when it differs (apk, alpm)."""
    namespace = distro.id if distro is not None and distro.id else default_namespace
    qualifiers = os_qualifiers(distro, raw.arch)
    if raw.source_name and raw.source_name != raw.name:
        qualifiers["upstream"] = raw.source_name
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type=purl_type,
        purl=build_purl(purl_type, raw.name, raw.version, namespace=namespace, qualifiers=qualifiers),
        source_name=raw.source_name,
        source_version=raw.source_version,
        arch=raw.arch,
        licenses=list(raw.licenses),
        locations=[location],
    )
