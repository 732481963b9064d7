"""OCaml packages: opam package files (``<name>.opam``, or ``<name>.<version>/opam``).

An opam file is a list of ``field: value`` pairs. Installed packages sit in a switch at
``.opam-switch/packages/<name>.<version>/opam``: the directory names the package and its
version. A project's ``<name>.opam`` names the package by its file name and carries the
version in its ``version:`` field. Only files with an ``opam-version`` are opam files (the
glob ``*opam`` also catches others). ``license:`` is a string or a list of strings. The purl
is ``pkg:opam/<name>@<version>``, as syft writes it.
"""

from __future__ import annotations

import re

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_OPAM_VERSION = re.compile(r'(?m)^opam-version:\s*"\d+\.\d+"')
_VERSION = re.compile(r'(?m)^version:\s*"([^"]*)"')
_LICENSE = re.compile(r'(?m)^license:\s*("[^"]*"|\[[^\]]*\])')
_HOMEPAGE = re.compile(r'(?m)^homepage:\s*"([^"]+)"')


def _name_version(path: str, text: str) -> tuple[str, str]:
    parent, _, base = path.rstrip("/").rpartition("/")
    if base == "opam":
        name, _, version = parent.rsplit("/", 1)[-1].partition(".")
        return name, version
    m = _VERSION.search(text)
    return base.removesuffix(".opam"), m[1] if m else ""


def parse_opam(path: str, data: bytes) -> ParseResult:
    """The package an opam file describes; a file without ``opam-version`` is not one."""
    text = data.decode("utf-8", "replace")
    if not _OPAM_VERSION.search(text):
        return ParseResult()
    name, version = _name_version(path, text)
    if not name or not version:
        return ParseResult(problems=[f"{path}: opam file without a package version"])
    m = _LICENSE.search(text)
    licenses = tuple(re.findall(r'"([^"]*)"', m[1])) if m else ()
    homepage = _HOMEPAGE.search(text)
    metadata = {"homepage": homepage[1]} if homepage else {}
    return ParseResult(
        packages=[RawPackage(name=name, version=version, licenses=licenses, metadata=metadata)]
    )


def opam_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "opam", location)


CATALOGER = Cataloger(
    name="ocaml-opam",
    package_type="opam",
    request=FileRequest(
        name="ocaml-opam", patterns=("**/*.opam", "**/opam"), max_bytes=1 << 20, text_only=True
    ),
    parse=parse_opam,
    to_package=opam_to_package,
    tags=("language", "image", "directory"),
)
