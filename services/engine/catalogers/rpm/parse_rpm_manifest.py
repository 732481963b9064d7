"""CBL-Mariner / Azure Linux distroless images: ``var/lib/rpmmanifest/container-manifest-2``.

Distroless Mariner images carry no rpmdb; the image build writes one tab-separated line per
installed rpm instead (``rpm -qa --qf`` output): name, version-release, install time, build
time, vendor, epoch (``(none)`` when unset), size, arch, checksum kind and source rpm, as
syft and Trivy read it. The packages are the same as an rpmdb's, so the rpm record
(``pkg:rpm/mariner/...``) and the rpm matcher apply. ``container-manifest-1`` lists names
only and is not read.
"""

from __future__ import annotations

from services.engine.catalogers.collect import parse_lines
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.rpm.package import rpm_to_package, split_sourcerpm
from services.engine.requests import FileRequest

_FIELDS = 10


def _package(path: str, number: int, line: str) -> RawPackage | str:
    fields = line.split("\t")
    if len(fields) < _FIELDS or not fields[0] or not fields[1]:
        return f"{path}: line {number}: expected {_FIELDS} tab-separated fields with name and version"
    name, evr, vendor, epoch, arch, sourcerpm = (fields[i].strip() for i in (0, 1, 4, 5, 7, 9))
    epoch = "" if epoch in ("(none)", "") else epoch
    if epoch and not epoch.isdigit():
        return f"{path}: line {number}: epoch {epoch!r} is not a number"
    source_name, source_version = split_sourcerpm(sourcerpm)
    release = evr.rsplit("-", 1)[1] if "-" in evr else ""
    metadata = {"vendor": vendor, "epoch": epoch, "release": release, "sourcerpm": sourcerpm}
    return RawPackage(
        name=name,
        version=f"{epoch}:{evr}" if epoch else evr,
        source_name=source_name or name,
        source_version=source_version or evr,
        arch=arch,
        metadata={k: v for k, v in metadata.items() if v},
    )


def parse_rpm_manifest(path: str, data: bytes) -> ParseResult:
    """One package per line; a line with too few fields is a problem."""
    text = data.decode("utf-8", "replace")
    return parse_lines(text, lambda number, line: _package(path, number, line))


CATALOGER = Cataloger(
    name="rpm-manifest",
    package_type="rpm",
    request=FileRequest(
        name="rpm-manifest",
        patterns=("var/lib/rpmmanifest/container-manifest-2",),
        max_bytes=16 * 1024 * 1024,
    ),
    parse=parse_rpm_manifest,
    to_package=rpm_to_package,
    tags=("os", "image", "directory"),
)
