"""Installed Python distributions: ``*.dist-info/METADATA``, ``*.egg-info`` and ``EGG-INFO/PKG-INFO``.

The files use the core metadata format (email-header style). ``*.egg-info`` is either a
directory holding ``PKG-INFO`` or, for distutils installs (Debian's ``python3-*`` packages
among them), a single file with the same headers. Names are normalised as PEP 503 says for
the purl; the version is kept as written. Like syft, the ``Python`` egg-info that some
interpreters ship for themselves is not a package.
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import HeaderParser

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.purl import build_purl
from services.engine.requests import FileRequest

_NORMALIZE = re.compile(r"[-_.]+")
_LICENSE_CLASSIFIER = "License ::"


def normalize_name(name: str) -> str:
    """PEP 503 normalisation: lower case, runs of ``-_.`` become one ``-``."""
    return _NORMALIZE.sub("-", name).lower()


def declared_licenses(headers: Message) -> tuple[str, ...]:
    """``License-Expression`` (PEP 639), else a one-line ``License``, else the license classifiers.

    A multi-line ``License`` field holds the license text, not its name; ``UNKNOWN`` is what
    old setuptools wrote when nothing was declared.
    """
    expression = (headers.get("License-Expression") or "").strip()
    if expression:
        return (expression,)
    field = (headers.get("License") or "").strip()
    if field and "\n" not in field and field.upper() != "UNKNOWN":
        return (field,)
    found: list[str] = []
    for classifier in headers.get_all("Classifier") or []:
        parts = [p.strip() for p in str(classifier).split("::")]
        # "License :: OSI Approved :: MIT License" -> "MIT License"; skip the bare category
        if str(classifier).startswith(_LICENSE_CLASSIFIER) and len(parts) > 1:
            name = parts[-1]
            if name not in ("OSI Approved", "") and name not in found:
                found.append(name)
    return tuple(found)


def _kind(path: str) -> str:
    parent = path.rsplit("/", 2)[-2] if "/" in path else ""
    if path.endswith(".egg-info"):
        return "egg-info-file"
    if parent.upper().endswith("EGG-INFO"):
        return "egg-info"
    return "dist-info"


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
    if name == "Python" and _kind(path) == "egg-info-file":
        return ParseResult()  # the interpreter's own egg-info (Python-2.7.egg-info), as syft skips it
    metadata = {"kind": _kind(path)}
    metadata_version = (headers.get("Metadata-Version") or "").strip()
    if metadata_version:
        metadata["metadata_version"] = metadata_version
    raw = RawPackage(
        name=name,
        version=version,
        licenses=declared_licenses(headers),
        files=(path,),  # the metadata file itself: enough to tie the package to an owning OS package
        metadata=metadata,
    )
    return ParseResult(packages=[raw])


def python_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:pypi/<normalised name>@<version>``, shared by every Python format."""
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="pypi",
        purl=build_purl("pypi", normalize_name(raw.name), raw.version),
        licenses=list(raw.licenses),
        locations=[location],
        declared=raw.declared,
        metadata=dict(raw.metadata),
    )


CATALOGER = Cataloger(
    name="python-installed",
    package_type="pypi",
    request=FileRequest(
        name="python-installed",
        patterns=(
            "**/*dist-info/METADATA",
            "**/*DIST-INFO/METADATA",
            "**/*egg-info/PKG-INFO",
            "**/*EGG-INFO/PKG-INFO",
            "**/*.egg-info",
        ),
        max_bytes=4 * 1024 * 1024,
    ),
    parse=parse_python_metadata,
    to_package=python_to_package,
    tags=("language", "image", "directory"),
)
