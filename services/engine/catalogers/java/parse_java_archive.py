"""Java archives (JAR, WAR, EAR, PAR, SAR, JPI, HPI): Maven metadata, the manifest and nested archives.

Each archive is read as a zip from a seekable stream (the walk spools it), so a 200 MB jar
costs the zip directory, never the bytes. Following syft's java cataloger:

- The archive's own package comes from ``META-INF/MANIFEST.MF``: named by the
  ``pom.properties`` whose artifactId matches the file name, else by the manifest and the
  file name (see ``naming``). syft reports nothing for an archive without a manifest;
  Assay still names it from its only (or file-name-matching) ``pom.properties``, else from
  a ``name-1.2.3.jar`` file name.
- Every other ``META-INF/maven/**/pom.properties`` names a dependency shaded into the
  archive, unless its artifactId (or full coordinates) is the archive's own.
- Archives inside the archive (``WEB-INF/lib``, ``BOOT-INF/lib``, ``lib/``, anywhere) are
  read the same way down to ``ScanBudget.archive_depth_max`` levels, each through a spooled
  temporary file; their packages are located as ``/outer.war:WEB-INF/lib/inner.jar``. The
  bytes inflated from nested archives are counted in total for the image (a ``Meter``
  shared by the image's archives) against ``ScanBudget.archive_expanded_bytes_max`` (a jar
  fanning out into nested jars cannot expand without bound), and a central directory
  larger than ``parsed_file_bytes_max`` is refused before ``zipfile`` reads it into memory.
- A plain ``.zip`` (a distribution bundle) is read for the Java archives inside it only, as
  syft reads zip-wrapped archives; the zip itself is no package.
- An executable jar with a launcher script in front (Spring Boot's ``#!/bin/bash`` ...) is
  read from the zip's real start: ``zipfile`` finds the end-of-central-directory record from
  the end of the file and shifts every offset by the bytes in front of the zip.

The archive's SHA-1 (of the whole file, streamed) goes to the own package's metadata.
An archive that is not a readable zip, or an entry that cannot be inflated, is a problem
naming the file; the rest of the archive is still read.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import zipfile
import zlib
from typing import IO

import msgspec

from schemas.records import Distro, PackageRecord
from services.engine.budget import BudgetExceeded, ScanBudget
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.java.central_directory import central_directory_problem
from services.engine.catalogers.java.manifest import Manifest, parse_manifest
from services.engine.catalogers.java.naming import (
    ARCHIVE_SUFFIXES,
    WRAPPER_SUFFIXES,
    archive_filename,
    group_from_manifest,
    select_name,
    select_version,
)
from services.engine.catalogers.java.pom_properties import PomProperties, parse_pom_properties
from services.engine.catalogers.meter import Meter
from services.engine.catalogers.problems import Problems
from services.engine.purl import build_purl
from services.engine.requests import FileRequest

MAX_DEPTH = ScanBudget().archive_depth_max  # default archive nesting levels read below the outer archive
MAX_BYTES = 1024 * 1024 * 1024  # the outer archive, and any nested one once inflated
_META_CAP = 1024 * 1024  # manifest and pom.properties larger than this are not Maven's
_SPOOL_IN_MEMORY = 4 * 1024 * 1024
_CHUNK = 1024 * 1024
_POM_PROPERTIES = re.compile(r"META-INF/maven/.+/pom\.properties\Z")
_MANIFEST = "META-INF/MANIFEST.MF"
# what a damaged entry raises while zipfile inflates it
_ENTRY_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)
PATH_IN_ARCHIVE = "path_in_archive"  # raw metadata key: where a nested package sits below the outer file
_DEFAULT = ScanBudget()
_EXPANDED = "archive_expanded_bytes_max"


class _Own(msgspec.Struct, kw_only=True):
    """The archive's own package while pom.properties may still rename it."""

    group: str
    name: str
    version: str


def _sha1(stream: IO[bytes]) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    stream.seek(0)
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _matches_file_name(artifact_id: str, file_name: str, artifact_ids: set[str]) -> bool:
    """syft's test: exact when some pom.properties names the file exactly, else prefix/suffix."""
    if not artifact_id or not file_name:
        return False
    if file_name in artifact_ids:
        return artifact_id == file_name
    return artifact_id.startswith(file_name) or file_name.endswith(artifact_id)


class _Reader:
    """Reads one outer archive and everything nested in it into packages and problems."""

    def __init__(self, path: str, budget: ScanBudget, meter: Meter) -> None:
        self.path = path
        self.budget = budget
        self.meter = meter  # bytes inflated from nested archives, counted for the whole image
        self.packages: list[RawPackage] = []
        self.problems = Problems(path)
        self.exhausted = False  # the expansion budget ran out: no further nested archive is read

    def archive(self, stream: IO[bytes], inner: str, sha1: str, depth: int, wrapper: bool = False) -> None:
        where = f"{self.path}:{inner}" if inner else self.path
        if (problem := central_directory_problem(stream, self.budget.parsed_file_bytes_max)) is not None:
            self.problems.append(f"{where}: {problem}")
            return
        try:
            zf = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            self.problems.append(f"{where}: not a readable Java archive (zip): {exc}")
            return
        with zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            manifest: Manifest | None = None
            poms: list[PomProperties] = []
            for info in infos:
                if info.filename == _MANIFEST or _POM_PROPERTIES.match(info.filename):
                    data = self._read_small(zf, info, where)
                    if data is None:
                        continue
                    if info.filename == _MANIFEST:
                        manifest = parse_manifest(data)
                    elif (pom := parse_pom_properties(info.filename, data)) is not None:
                        poms.append(pom)
            poms.sort(key=lambda p: p.path)
            if not wrapper:  # a plain zip is no package: only the archives in it are
                self._identify(inner, sha1, manifest, poms)
            for info in infos:
                if info.filename.lower().endswith(ARCHIVE_SUFFIXES):
                    self._nested(zf, info, inner, where, depth)

    def _read_small(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes | None:
        if info.file_size > _META_CAP:
            return None
        try:
            with zf.open(info) as fh:
                return fh.read(_META_CAP)
        except _ENTRY_ERRORS as exc:
            self.problems.append(f"{where}: cannot read {info.filename}: {exc}")
            return None

    def _identify(self, inner: str, sha1: str, manifest: Manifest | None, poms: list[PomProperties]) -> None:
        """The archive's own package (if it has one) and the shaded dependencies' packages."""
        if manifest is not None and manifest.get("Weave-Classes"):
            return  # New Relic instrumentation jars name what they instrument, not themselves (as syft)
        filename = archive_filename(inner or self.path)
        ids = {p.artifact_id for p in poms}
        matching = [p for p in poms if _matches_file_name(p.artifact_id, filename.name, ids)]
        own_pom = matching[0] if matching else (poms[0] if manifest is None and len(poms) == 1 else None)
        own: _Own | None = None
        if own_pom is not None:
            own = _Own(group=own_pom.group_id, name=own_pom.artifact_id, version=own_pom.version)
        elif manifest is not None:
            own = _Own(
                group=group_from_manifest(manifest),
                name=select_name(manifest, filename),
                version=select_version(manifest, filename),
            )
        elif filename.version:
            own = _Own(group="", name=filename.name, version=filename.version)
        shaded: list[PomProperties] = []
        for pom in poms:
            if own is not None and (
                pom.key() == (own.group, own.name, own.version) or pom.artifact_id == own.name
            ):
                own.group, own.name, own.version = pom.group_id, pom.artifact_id, pom.version
            else:
                shaded.append(pom)
        place = {PATH_IN_ARCHIVE: inner} if inner else {}
        if own is not None and own.name:
            licenses = (
                tuple(
                    v for v in (manifest.anywhere(k) for k in ("Bundle-License", "Plugin-License-Name")) if v
                )
                if manifest is not None
                else ()
            )
            self.packages.append(
                RawPackage(
                    name=own.name,
                    version=own.version,
                    namespace=own.group,
                    licenses=licenses,
                    metadata={"sha1": sha1, **place},
                )
            )
        for pom in shaded:
            self.packages.append(
                RawPackage(
                    name=pom.artifact_id, version=pom.version, namespace=pom.group_id, metadata=dict(place)
                )
            )

    def _exhaust(self, where: str, name: str) -> None:
        self.exhausted = True
        limit = self.budget.archive_expanded_bytes_max
        exc = BudgetExceeded(_EXPANDED, limit, f"{where}: {name}")
        self.problems.append(f"{exc}; no further nested archive read")

    def _nested(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, inner: str, where: str, depth: int) -> None:
        if self.exhausted:
            return
        child = f"{inner}:{info.filename}" if inner else info.filename
        depth_max = self.budget.archive_depth_max
        if depth + 1 > depth_max:
            self.problems.append(f"{where}: {info.filename} not read: archives nested over {depth_max} deep")
            return
        if info.file_size > MAX_BYTES:
            self.problems.append(f"{where}: {info.filename} not read: {info.file_size} bytes inflated")
            return
        left = self.meter.left(_EXPANDED)
        if info.file_size > left:
            self._exhaust(where, info.filename)
            return
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
            digest = hashlib.sha1(usedforsecurity=False)
            try:
                with zf.open(info) as src:
                    while chunk := src.read(_CHUNK):
                        self.meter.spend(_EXPANDED, len(chunk))
                        if len(chunk) > left:
                            self._exhaust(where, info.filename)
                            return
                        left -= len(chunk)
                        digest.update(chunk)
                        spool.write(chunk)
            except _ENTRY_ERRORS as exc:
                self.problems.append(f"{where}: cannot read nested archive {info.filename}: {exc}")
                return
            spool.seek(0)
            self.archive(spool, child, digest.hexdigest(), depth + 1)


def parse_java_archive_stream(
    path: str, stream: IO[bytes], budget: ScanBudget = _DEFAULT, meter: Meter | None = None
) -> ParseResult:
    """All packages of one archive given as a seekable stream; never raises on bad input.

    ``meter`` counts the bytes inflated from nested archives for the whole image (the
    analysis shares one across the image's files); without one they count for this file.
    """
    reader = _Reader(path, budget, meter if meter is not None else Meter(budget))
    wrapper = path.lower().endswith(WRAPPER_SUFFIXES)
    try:
        sha1 = "" if wrapper else _sha1(stream)  # a zip is no package: its digest names nothing
    except OSError as exc:
        return ParseResult(problems=[f"{path}: cannot read the archive: {exc}"])
    reader.archive(stream, "", sha1, 0, wrapper=wrapper)
    return ParseResult(packages=reader.packages, problems=reader.problems.items())


def parse_java_archive(
    path: str, data: bytes, budget: ScanBudget = _DEFAULT, meter: Meter | None = None
) -> ParseResult:
    """The same as ``parse_java_archive_stream`` for an archive already in memory."""
    return parse_java_archive_stream(path, io.BytesIO(data), budget, meter)


def java_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:maven/<groupId>/<artifactId>@<version>``; without a group the name is the namespace (as syft)."""
    metadata = dict(raw.metadata)
    inner = metadata.pop(PATH_IN_ARCHIVE, "")
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="maven",
        purl=build_purl("maven", raw.name, raw.version, namespace=raw.namespace or raw.name),
        licenses=list(raw.licenses),
        locations=[f"{location}:{inner}" if inner else location],
        metadata=metadata,
    )


CATALOGER = Cataloger(
    name="java-archive",
    package_type="maven",
    request=FileRequest(
        name="java-archive",
        patterns=tuple(f"**/*{suffix}" for suffix in (*ARCHIVE_SUFFIXES, *WRAPPER_SUFFIXES)),
        max_bytes=MAX_BYTES,
        magic=(b"PK\x03\x04", b"#!"),  # a zip, or an executable jar with a launcher script in front
        spool=True,
    ),
    parse=parse_java_archive,
    parse_stream=parse_java_archive_stream,
    to_package=java_to_package,
    tags=("language", "image", "directory"),
)
