"""dpkg's database: ``var/lib/dpkg/status`` and distroless ``var/lib/dpkg/status.d/*``.

The format is RFC 822-style stanzas separated by blank lines (deb-control(5)). A
binary package's ``Source:`` field may carry the source version in parentheses when it
differs from the binary version (binNMUs); without it the source version is the
package's own.
"""

from __future__ import annotations

import re

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.purl import build_purl, os_qualifiers
from services.engine.requests import FileRequest

_SOURCE_RE = re.compile(r"^(?P<name>\S+)(?:\s+\((?P<version>[^)]+)\))?$")
_FIELD_RE = re.compile(r"^(?P<key>[A-Za-z0-9][A-Za-z0-9-]*):(?P<value>.*)$")


def _stanzas(text: str) -> list[tuple[int, list[str]]]:
    """Split into stanzas, each with its 1-based starting line number."""
    out: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 1
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip() == "":
            if current:
                out.append((start, current))
                current = []
            continue
        if not current:
            start = lineno
        current.append(line)
    if current:
        out.append((start, current))
    return out


def _fields(lines: list[str]) -> tuple[dict[str, str], str]:
    """Fields of one stanza; a second value is the first malformed line, if any."""
    fields: dict[str, str] = {}
    key = ""
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not key:
                return fields, line
            fields[key] += "\n" + line.strip()
            continue
        m = _FIELD_RE.match(line)
        if m is None:
            return fields, line
        key = m.group("key").lower()
        fields[key] = m.group("value").strip()
    return fields, ""


def _installed(status: str) -> bool:
    """Whether a Status field says the package is installed (absent in distroless status.d)."""
    if not status:
        return True
    words = status.split()
    return len(words) == 3 and words[2] in ("installed", "half-configured", "unpacked", "triggers-pending")


def parse_dpkg_status(path: str, data: bytes) -> ParseResult:
    """Parse a dpkg status file into raw packages; malformed stanzas become problems.

    ``status.d/NAME.md5sums`` files sit beside distroless stanza files; they are file lists
    (read by ``services.engine.ownership``), not stanzas, and yield nothing here.
    """
    if path.endswith(".md5sums"):
        return ParseResult()
    text = data.decode("utf-8", errors="replace")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    packages: list[RawPackage] = []
    problems: list[str] = []
    for start, lines in _stanzas(text):
        fields, bad = _fields(lines)
        if bad:
            problems.append(f"{path}: stanza at line {start}: malformed line {bad[:60]!r}")
            continue
        name = fields.get("package", "")
        version = fields.get("version", "")
        if not name or not version:
            missing = "Package" if not name else "Version"
            problems.append(f"{path}: stanza at line {start}: no {missing} field")
            continue
        if not _installed(fields.get("status", "")):
            continue
        source_name, source_version = name, version
        if fields.get("source"):
            m = _SOURCE_RE.match(fields["source"])
            if m is None:
                problems.append(f"{path}: package {name}: malformed Source field {fields['source']!r}")
            else:
                source_name = m.group("name")
                source_version = m.group("version") or version
        packages.append(
            RawPackage(
                name=name,
                version=version,
                source_name=source_name,
                source_version=source_version,
                arch=fields.get("architecture", ""),
            )
        )
    return ParseResult(packages=packages, problems=problems)


def dpkg_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """A purl-bearing deb package; the namespace is the distribution (debian, ubuntu, ...)."""
    namespace = distro.id if distro is not None and distro.id else "debian"
    qualifiers = os_qualifiers(distro, raw.arch)
    if raw.source_name and (raw.source_name != raw.name or raw.source_version != raw.version):
        upstream = raw.source_name
        if raw.source_version != raw.version:
            upstream += f"@{raw.source_version}"
        qualifiers["upstream"] = upstream
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="deb",
        purl=build_purl("deb", raw.name, raw.version, namespace=namespace, qualifiers=qualifiers),
        source_name=raw.source_name,
        source_version=raw.source_version,
        arch=raw.arch,
        locations=[location],
    )


CATALOGER = Cataloger(
    name="dpkg-status",
    package_type="deb",
    request=FileRequest(
        name="dpkg-status",
        patterns=("var/lib/dpkg/status", "var/lib/dpkg/status.d/*"),
        shadowed=True,
    ),
    parse=parse_dpkg_status,
    to_package=dpkg_to_package,
    tags=("os", "image", "directory"),
)
