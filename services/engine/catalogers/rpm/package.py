"""What every rpmdb backend shares: header blobs to raw packages, raw packages to purl-bearing records.

Version: ``VERSION-RELEASE``, prefixed with ``EPOCH:`` when the header has an epoch (even 0),
as syft reports it and as the OSV Red Hat / AlmaLinux / Rocky records write their ``fixed``
versions (``1:3.0.1-47.el9_1``). In the purl the epoch is a qualifier instead, as the purl
spec's rpm type and syft do: ``pkg:rpm/redhat/openssl-libs@3.0.1-43.el9_0?arch=x86_64&epoch=1
&upstream=openssl-3.0.1-43.el9_0.src.rpm&distro=rhel-9.0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import ParseResult, RawPackage
from services.engine.catalogers.problems import Problems
from services.engine.catalogers.rpm.header import HeaderError, RpmHeader, parse_header
from services.engine.purl import build_purl, distro_qualifier

# purl namespaces that differ from the os-release ID (syft's choices)
_NAMESPACES = {"rhel": "redhat", "hummingbird": "redhat"}


def split_sourcerpm(sourcerpm: str) -> tuple[str, str]:
    """``openssl-3.0.1-43.el9_0.src.rpm`` -> (``openssl``, ``3.0.1-43.el9_0``); ("", "") if unparseable."""
    stem = sourcerpm
    for suffix in (".src.rpm", ".nosrc.rpm"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    else:
        return "", ""
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return "", ""
    return parts[0], f"{parts[1]}-{parts[2]}"


def raw_from_header(header: RpmHeader) -> RawPackage:
    """The raw package of one header; files lose their leading ``/`` as image paths do."""
    evr = f"{header.version}-{header.release}" if header.release else header.version
    version = f"{header.epoch}:{evr}" if header.epoch is not None else evr
    source_name, source_version = split_sourcerpm(header.sourcerpm)
    metadata = {
        "vendor": header.vendor,
        "epoch": str(header.epoch) if header.epoch is not None else "",
        "release": header.release,
        "modularitylabel": header.modularitylabel,
        "sourcerpm": header.sourcerpm,
    }
    return RawPackage(
        name=header.name,
        version=version,
        source_name=source_name or header.name,
        source_version=source_version or evr,
        arch=header.arch,
        licenses=(header.license,) if header.license else (),
        files=tuple(f.lstrip("/") for f in header.files),
        metadata={k: v for k, v in metadata.items() if v},
    )


def within_file(
    path: str, blobs: Iterable[tuple[str, bytes]], file_size: int, problems: Problems
) -> Iterator[tuple[str, bytes]]:
    """The blobs until together they hold more bytes than the file: then one problem, and no more.

    In a sound database every header occupies its own bytes (NDB blocks, Berkeley DB pages),
    so the headers add up to less than the file. Slots or items that all point at one large
    blob would otherwise be read again and again (a hang); the file's size is their budget.
    """
    total = 0
    for label, blob in blobs:
        total += len(blob)
        if total > file_size:
            problems.add(
                f"{path}: {label}: headers read add up to over the file's {file_size} bytes "
                "(records overlap); stopped reading"
            )
            return
        yield label, blob


def parse_blobs(path: str, blobs: Iterable[tuple[str, bytes]], problems: Problems) -> ParseResult:
    """Raw packages of ``(label, header blob)`` pairs; a blob that does not decode becomes a problem.

    ``problems`` holds what the backend reader found (and finds while it is iterated).
    ``gpg-pubkey`` pseudo-packages (signing keys that ``rpm --import`` records as headers;
    ``rpm -qa`` lists them) are left out, as Trivy does: they are not software and no
    advisory names them.
    """
    packages: list[RawPackage] = []
    for label, blob in blobs:
        try:
            header = parse_header(blob)
        except HeaderError as exc:
            problems.add(f"{path}: {label}: {exc}")
            continue
        if header.name == "gpg-pubkey":
            continue
        packages.append(raw_from_header(header))
    return ParseResult(packages=packages, problems=problems.items())


def rpm_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """A purl-bearing rpm package; the namespace is the distribution (``redhat`` for RHEL)."""
    namespace = _NAMESPACES.get(distro.id, distro.id) if distro is not None else ""
    if namespace.startswith("opensuse"):
        namespace = "opensuse"
    epoch = raw.metadata.get("epoch", "")
    purl_version = raw.version.split(":", 1)[1] if epoch else raw.version
    qualifiers = {
        "arch": raw.arch,
        "epoch": epoch,
        "upstream": raw.metadata.get("sourcerpm", ""),
        "distro": distro_qualifier(distro.id, distro.version_id) if distro is not None else "",
    }
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="rpm",
        purl=build_purl("rpm", raw.name, purl_version, namespace=namespace, qualifiers=qualifiers),
        source_name=raw.source_name,
        source_version=raw.source_version,
        arch=raw.arch,
        licenses=list(raw.licenses),
        locations=[location],
        metadata=dict(raw.metadata),
    )
