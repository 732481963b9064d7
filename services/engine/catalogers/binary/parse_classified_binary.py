"""Binaries without package metadata: an interpreter, server or tool recognised by its version string.

Many images install software by copying a build (``/usr/local/bin/python3.12``,
``/usr/sbin/nginx``, ``/usr/local/bin/redis-server``): no package database names it. A
classifier (``classifiers.toml``) names the files to look at by their file name and finds
the version in the bytes, as syft's binary classifiers do; the purl is the classifier's
(mostly ``pkg:generic/<name>@<version>``). The file is read as a stream, in overlapping
windows, so a 100 MiB ``node`` costs constant memory. Each classifier's first pattern that
matches wins; a file may hold more than one package (mysql builds of MariaDB and Percona).

A binary an OS package installed is that OS package, already reported with its
distribution's data; such packages are left out of the report (``shadowed_by_os``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import IO

import msgspec
from packageurl import PackageURL

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.binary.classify import Classifier, all_globs, classifiers
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_WINDOW = 4 * 1024 * 1024
_OVERLAP = 4096  # longer than any version string a pattern matches


def windows(f: IO[bytes], limit: int = 0) -> Iterator[bytes]:
    """The file from its start in overlapping windows (so a match across a boundary is whole),
    up to ``limit`` bytes when one is given."""
    f.seek(0)
    tail = b""
    read = 0
    while (not limit or read < limit) and (chunk := f.read(_WINDOW)):
        yield tail + chunk
        tail, read = chunk[-_OVERLAP:], read + len(chunk)


def _search(f: IO[bytes], patterns: list[re.Pattern[bytes]]) -> str:
    for pattern in patterns:
        for window in windows(f):
            m = pattern.search(window)
            if m is not None:
                return m["version"].decode("ascii", "replace")
    return ""


def _classify(
    path: str, f: IO[bytes], candidates: list[tuple[Classifier, list[re.Pattern[bytes]]]]
) -> ParseResult:
    found: dict[str, RawPackage] = {}
    for classifier, patterns in candidates:
        if classifier.unless and classifier.unless in found:
            continue
        version = _search(f, patterns)
        if version and classifier.package not in found:
            found[classifier.package] = RawPackage(
                name=classifier.package,
                version=version,
                metadata={"class": classifier.cls, "purl": classifier.purl},
            )
    return ParseResult(packages=list(found.values()))


def parse_classified_binary_stream(path: str, f: IO[bytes]) -> ParseResult:
    """The packages the classifiers for ``path``'s name find in its bytes (none is no problem)."""
    candidates = [(c, p) for c in classifiers() if (p := c.contents(path)) is not None]
    return _classify(path, f, candidates) if candidates else ParseResult()


def parse_classified_binary(path: str, data: bytes) -> ParseResult:
    """``parse_classified_binary_stream`` on bytes already read."""
    return parse_classified_binary_stream(path, io.BytesIO(data))


def binary_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``<classifier purl>@<version>``; the record's type is the purl's (mostly ``generic``)."""
    base = PackageURL.from_string(raw.metadata.get("purl") or f"pkg:generic/{raw.name}")
    purl = PackageURL(type=base.type, namespace=base.namespace, name=base.name, version=raw.version)
    record = plain_record(raw, base.type, location, purl=str(purl))
    return msgspec.structs.replace(record, metadata={k: v for k, v in raw.metadata.items() if k != "purl"})


CATALOGER = Cataloger(
    name="binary-classifier",
    package_type="generic",
    request=FileRequest(
        name="binary-classifier",
        patterns=all_globs(),
        max_bytes=512 * 1024 * 1024,
        spool=True,
        report_oversize=False,
    ),
    parse=parse_classified_binary,
    parse_stream=parse_classified_binary_stream,
    to_package=binary_to_package,
    tags=("binary", "image", "directory"),
    shadowed_by_os=True,
)
