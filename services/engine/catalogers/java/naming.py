"""Naming a Java archive when Maven metadata does not: its manifest and its file name, in syft's order.

syft (``syft/pkg/cataloger/java``) takes the name from an Apache Maven Bundle Plugin
``Bundle-SymbolicName``, else the file name, else manifest fields; the version from the
file name, else ``Implementation-Version``, ``Specification-Version``, ``Plugin-Version``,
``Bundle-Version``. The Maven group for the purl comes from manifest fields that look like
a reversed domain; without one the purl uses the artifact name as its namespace, as syft does.
"""

from __future__ import annotations

import re

import msgspec

from services.engine.catalogers.java.manifest import Manifest

# syft's archiveFormatGlobs: jar, war, ear, par, sar, nar (NiFi), jpi/hpi (Jenkins), kar (Karaf),
# lpkg (Liferay)
ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".par", ".sar", ".nar", ".jpi", ".hpi", ".kar", ".lpkg")
# plain zips are read for the Java archives inside them only (syft's zip-wrapped archives)
WRAPPER_SUFFIXES = (".zip",)

# a version starts at the first "-" followed by a digit, or at a "-rc1"/"-build12" style tag
_VERSION_START = re.compile(r"-(?=\d|rc\d|build\d)", re.IGNORECASE)
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*\Z")
_GROUP_FIELDS = (
    "Extension-Name",
    "Specification-Vendor",
    "Implementation-Vendor",
    "Bundle-SymbolicName",
    "Implementation-Vendor-Id",
    "Implementation-Title",
    "Bundle-Activator",
)
_GROUP_FIELDS_LAST_RESORT = ("Automatic-Module-Name", "Main-Class", "Package")
_GROUP_DOMAINS = ("com", "org", "net", "io", "be")


class ArchiveFilename(msgspec.Struct, frozen=True, kw_only=True):
    """``log4j-core-2.14.1.jar`` is name ``log4j-core``, version ``2.14.1``."""

    name: str
    version: str


def archive_filename(path: str) -> ArchiveFilename:
    """Split an archive's base name (any directory and the archive suffix removed)."""
    base = path.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    for suffix in ARCHIVE_SUFFIXES:
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    found = _VERSION_START.search(base)
    if found is None or found.start() == 0:
        return ArchiveFilename(name=base, version="")
    return ArchiveFilename(name=base[: found.start()], version=base[found.start() + 1 :])


def _name_from_bundle_plugin(manifest: Manifest) -> str:
    """The last part of ``Bundle-SymbolicName`` when the Apache Maven Bundle Plugin wrote the manifest."""
    if "Apache Maven Bundle Plugin" not in manifest.get("Created-By"):
        return ""
    symbolic = manifest.get("Bundle-SymbolicName").split(";", 1)[0].strip()
    if not symbolic or symbolic == manifest.get("Implementation-Vendor-Id"):
        return ""
    return symbolic.rsplit(".", 1)[-1]


def _name_from_filename(name: str) -> str:
    """``org.example.tool`` as a file name is likely group + artifact: keep the artifact."""
    if "." in name and not name.startswith("org.eclipse."):
        parts = name.split(".")
        if all(_IDENTIFIER.match(p) for p in parts):
            return parts[-1]
    return name


def select_name(manifest: Manifest | None, filename: ArchiveFilename) -> str:
    """The archive's name when no pom.properties names it."""
    if manifest is not None:
        name = _name_from_bundle_plugin(manifest)
        if name:
            return name
    name = _name_from_filename(filename.name)
    if name or manifest is None:
        return name
    for key in ("Name", "Bundle-Name", "Short-Name", "Extension-Name", "Implementation-Title"):
        if manifest.get(key):
            return manifest.get(key)
    return ""


def select_version(manifest: Manifest | None, filename: ArchiveFilename) -> str:
    """The archive's version when no pom.properties gives it."""
    if filename.version or manifest is None:
        return filename.version
    for key in ("Implementation-Version", "Specification-Version", "Plugin-Version", "Bundle-Version"):
        value = manifest.anywhere(key)
        if value:
            return value
    return ""


def _group_candidates(manifest: Manifest, fields: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for section in (manifest.main, *manifest.sections):
        lowered = {k.lower(): v for k, v in section.items()}
        for key in fields:
            value = lowered.get(key.lower(), "")
            if value.startswith(_GROUP_DOMAINS):  # a plain prefix test, as syft's
                found.append(value.split(";", 1)[0].split("#", 1)[0].strip())
    return found


def group_from_manifest(manifest: Manifest | None) -> str:
    """A Maven group guessed from manifest fields, as syft guesses it.

    Every value of the usual fields that starts with ``com``, ``org``, ``net``, ``io`` or
    ``be`` (OSGi directives after ``;`` cut off) is a candidate; the alphabetically first
    wins, so ``Implementation-Vendor-Id: org.apache`` beats
    ``Bundle-SymbolicName: org.apache.commons.logging``. Module and main-class names are
    the last resort.
    """
    if manifest is None:
        return ""
    for fields in (_GROUP_FIELDS, _GROUP_FIELDS_LAST_RESORT):
        candidates = _group_candidates(manifest, fields)
        if candidates:
            return min(candidates)
    return ""
