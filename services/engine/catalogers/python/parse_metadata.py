"""Installed Python distributions: ``*.dist-info/METADATA``, ``*.egg-info`` and ``EGG-INFO/PKG-INFO``.

The files use the core metadata format (email-header style). Names are normalised as
PEP 503 says for the purl; the version is kept as written.
"""

from __future__ import annotations

import re
from email.parser import HeaderParser

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.purl import build_purl
from services.engine.requests import FileRequest

_NORMALIZE = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    """PEP 503 normalisation: lower case, runs of ``-_.`` become one ``-``."""
    return _NORMALIZE.sub("-", name).lower()


def parse_python_metadata(path: str, data: bytes) -> ParseResult:
    """Parse one core-metadata file; a file without Name or Version is a problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    headers = HeaderParser().parsestr(text, headersonly=True)
    name = (headers.get("Name") or "").strip()
    version = (headers.get("Version") or "").strip()
    if not name or not version:
        missing = "Name" if not name else "Version"
        return ParseResult(problems=[f"{path}: no {missing} field in Python package metadata"])
    expression = (headers.get("License-Expression") or "").strip()
    license_field = (headers.get("License") or "").strip()
    licenses = (
        (expression,)
        if expression
        else ((license_field,) if license_field and "\n" not in license_field else ())
    )
    return ParseResult(packages=[RawPackage(name=name, version=version, licenses=licenses)])


def python_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:pypi/<normalised name>@<version>``."""
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="pypi",
        purl=build_purl("pypi", normalize_name(raw.name), raw.version),
        licenses=list(raw.licenses),
        locations=[location],
    )


CATALOGER = Cataloger(
    name="python-installed",
    package_type="pypi",
    request=FileRequest(
        name="python-installed",
        patterns=(
            "**/*.dist-info/METADATA",
            "**/*.egg-info/PKG-INFO",
            "**/EGG-INFO/PKG-INFO",
            "**/*.egg-info",
        ),
        max_bytes=4 * 1024 * 1024,
    ),
    parse=parse_python_metadata,
    to_package=python_to_package,
    tags=("language", "image", "directory"),
)
