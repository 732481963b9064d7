"""What a cataloger is: the files it wants, a pure parser, and a raw-to-package step.

Parsers take the file's path and bytes and return raw entries that mirror the file, plus
problems (text naming what was wrong). They never raise on bad input, never read other
files, the network or the clock. ``to_package`` turns a raw entry into a normalised
``PackageRecord`` once the distribution is known (it shapes the purl).

Files beside a package database that say more about its packages (dpkg's file lists and
copyright files) are the cataloger's ``companions``: each asks for its files with its own
request, names the package a file belongs to, and reads the licenses it declares or the paths
it owns. The analysis joins them to the cataloger's packages by name; no ecosystem is special.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

import msgspec

from schemas.records import Distro, PackageRecord
from services.engine.requests import FileRequest


class RawPackage(msgspec.Struct, frozen=True, kw_only=True):
    """A package as its database file states it, before normalisation."""

    name: str
    version: str
    source_name: str = ""
    source_version: str = ""
    arch: str = ""
    licenses: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # image paths the package installed (OS package databases)
    namespace: str = ""  # purl namespace: Maven groupId, npm scope, Go module host/path prefix
    declared: bool = False  # named by a lockfile/manifest rather than found installed
    metadata: dict[str, str] = {}  # format-specific facts copied to PackageRecord.metadata

    def key(self) -> tuple[str, str]:
        return (self.name, self.version)


class ParseResult(msgspec.Struct, frozen=True, kw_only=True):
    """A parser's output: the entries it could read and what it could not."""

    packages: list[RawPackage] = []
    problems: list[str] = []


Parser = Callable[[str, bytes], ParseResult]
# For requests with ``spool=True``: the file as a seekable binary stream, valid only during the call.
StreamParser = Callable[[str, IO[bytes]], ParseResult]
ToPackage = Callable[[RawPackage, Distro | None, str], PackageRecord]


@dataclass(frozen=True)
class Companion:
    """Files beside a package database, one per package, read through the walk like any request.

    ``package`` names the package a file belongs to (by its path); ``licenses`` reads the
    licenses it declares (used when the database states none); ``files`` yields the image paths
    it says the package owns (no leading slash; a generator, so a huge list costs no list).
    Over ``parsed_file_bytes_max``, a ``files`` companion is an unknown; a ``licenses`` one is
    left out.
    """

    request: FileRequest
    package: Callable[[str], str]
    licenses: Callable[[bytes], list[str]] | None = None
    files: Callable[[str, bytes], Iterator[str]] | None = None


class Cataloger(msgspec.Struct, frozen=True, kw_only=True):
    """One file format of one ecosystem."""

    name: str  # e.g. "dpkg-status"
    package_type: str  # purl type
    request: FileRequest
    parse: Parser
    to_package: ToPackage  # (raw, distro, location) -> package
    tags: tuple[str, ...] = ()  # selection tags: "os", "image", "directory"
    # Used instead of ``parse`` when ``request.spool`` is set (jars, binaries): constant memory.
    parse_stream: StreamParser | None = None
    companions: tuple[Companion, ...] = ()  # files beside the database (see the module docstring)
    # A package found in a file an OS package installed is that OS package (a classified binary):
    # left out of the report, as syft does, since the OS record already names it.
    shadowed_by_os: bool = False
