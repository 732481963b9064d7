"""Installed conda packages: ``conda-meta/<name>-<version>-<build>.json`` in an environment's root.

conda writes one JSON record per installed package (``name``, ``version``, ``build``,
``channel``, ``license``, ``files``); ``history`` and other non-record files are not
requested. The file list is not kept: no OS package index uses it. The purl is
``pkg:conda/<name>@<version>`` with the build, channel and subdir as qualifiers, as syft
and Trivy read these records.
"""

from __future__ import annotations

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import decode_json
from services.engine.requests import FileRequest


def parse_conda_meta(path: str, data: bytes) -> ParseResult:
    """One package; a record without name or version is a problem."""
    doc, problem = decode_json(path, data, "conda-meta")
    if problem:
        return ParseResult(problems=[problem])
    if not isinstance(doc, dict):
        return ParseResult(problems=[f"{path}: conda-meta record is not a JSON object"])
    name, version = doc.get("name"), doc.get("version")
    if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
        return ParseResult(problems=[f"{path}: conda-meta record has no name or version"])
    license_field = doc.get("license")
    metadata = {k: str(doc.get(k) or "") for k in ("build", "channel", "subdir")}
    return ParseResult(
        packages=[
            RawPackage(
                name=name,
                version=version,
                licenses=(license_field,) if isinstance(license_field, str) and license_field else (),
                metadata={k: v for k, v in metadata.items() if v},
            )
        ]
    )


def conda_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    qualifiers = {k: raw.metadata.get(k, "") for k in ("build", "channel", "subdir")}
    return plain_record(raw, "conda", location, qualifiers=qualifiers)


CATALOGER = Cataloger(
    name="conda-meta",
    package_type="conda",
    request=FileRequest(name="conda-meta", patterns=("**/conda-meta/*-*-*.json",), max_bytes=16 << 20),
    parse=parse_conda_meta,
    to_package=conda_to_package,
    tags=("language", "image", "directory"),
)
