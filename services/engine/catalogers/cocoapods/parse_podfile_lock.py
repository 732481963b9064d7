"""Declared CocoaPods dependencies: ``Podfile.lock``.

YAML: ``PODS`` lists every installed pod as ``Name (1.2.3)``, or as a one-key mapping from
that to the pod's own dependencies; a subspec is ``Name/Subspec (1.2.3)``. The purl is
``pkg:cocoapods/<Name>@<version>`` with the subspec as the purl subpath, as the purl spec
says; the record keeps the name as written.
"""

from __future__ import annotations

import re

from packageurl import PackageURL

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import decode_yaml
from services.engine.requests import FileRequest

_POD = re.compile(r"^(?P<name>[^\s(]+)\s+\((?P<version>[^)\s]+)\)$")


def parse_podfile_lock(path: str, data: bytes) -> ParseResult:
    """Installed pods; an entry that is not ``Name (version)`` is a problem."""
    doc, problem = decode_yaml(path, data.decode("utf-8", "replace"), "Podfile.lock")
    if problem:
        return ParseResult(problems=[problem])
    pods = doc.get("PODS") if isinstance(doc, dict) else None
    if not isinstance(pods, list):
        return ParseResult(problems=[f"{path}: no PODS list: not a Podfile.lock"])
    packages: list[RawPackage] = []
    problems: list[str] = []
    for entry in pods:
        spec = next(iter(entry), "") if isinstance(entry, dict) and len(entry) == 1 else entry
        m = _POD.match(spec.strip()) if isinstance(spec, str) else None
        if m is None:
            problems.append(f"{path}: pod {str(spec)[:80]!r} is not 'Name (version)'")
            continue
        packages.append(RawPackage(name=m["name"], version=m["version"], declared=True))
    return ParseResult(packages=packages, problems=problems)


def pod_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    name, _, subspec = raw.name.partition("/")
    purl = PackageURL(type="cocoapods", name=name, version=raw.version, subpath=subspec or None).to_string()
    return plain_record(raw, "cocoapods", location, purl=str(purl))


CATALOGER = Cataloger(
    name="cocoapods-podfile-lock",
    package_type="cocoapods",
    request=FileRequest(name="cocoapods-podfile-lock", patterns=("**/Podfile.lock",), max_bytes=8 << 20),
    parse=parse_podfile_lock,
    to_package=pod_to_package,
    tags=("language", "image", "directory", "declared"),
)
