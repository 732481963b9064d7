"""Installed R packages: ``<library>/<package>/DESCRIPTION`` in an R library tree.

The file is in Debian control format (DCF): ``Package``, ``Version``, ``License`` and, for
an installed package, ``Built: R 4.3.1; ; 2023-...`` written by ``R CMD INSTALL``. Only
files in a library tree (``library/`` or ``site-library/``) with a ``Built`` field are
installed packages; a source tree's DESCRIPTION is not. The purl is ``pkg:cran/<name>@<version>``
as syft writes it.
"""

from __future__ import annotations

from email.parser import HeaderParser

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest


def parse_description(path: str, data: bytes) -> ParseResult:
    """The installed package a DESCRIPTION names; one without Package or Version is a problem."""
    headers = HeaderParser().parsestr(data.decode("utf-8", "replace"))
    if not headers.get("Built"):
        return ParseResult()  # a source package's DESCRIPTION: not installed
    name, version = (headers.get("Package") or "").strip(), (headers.get("Version") or "").strip()
    if not name or not version:
        return ParseResult(problems=[f"{path}: installed R package without Package or Version"])
    license_field = " ".join((headers.get("License") or "").split())
    metadata = {
        "built": " ".join(str(headers.get("Built")).split()),
        "repository": headers.get("Repository") or "",
    }
    return ParseResult(
        packages=[
            RawPackage(
                name=name,
                version=version,
                licenses=(license_field,) if license_field else (),
                metadata={k: str(v) for k, v in metadata.items() if v},
            )
        ]
    )


def cran_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "cran", location)


CATALOGER = Cataloger(
    name="r-package",
    package_type="cran",
    request=FileRequest(
        name="r-package",
        patterns=("**/library/*/DESCRIPTION", "**/site-library/*/DESCRIPTION"),
        max_bytes=1 << 20,
    ),
    parse=parse_description,
    to_package=cran_to_package,
    tags=("language", "image", "directory"),
)
