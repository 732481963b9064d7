"""Installed Gentoo packages: portage's ``var/db/pkg/<category>/<name>-<version>/CONTENTS``.

Portage keeps one directory per installed package, named ``<name>-<version>`` (the version
starts at the last ``-<digit>``, revisions such as ``-r1`` included) under its category.
``CONTENTS`` lists what the package installed, one entry a line: ``dir /usr/bin``,
``obj /usr/bin/skopeo <md5> <mtime>``, ``sym /usr/lib/x -> y <mtime>``. The licence is the
``LICENSE`` file beside it (a companion). The package name is ``<category>/<name>`` and the
purl ``pkg:ebuild/<category>/<name>@<version>``, as syft writes them.
"""

from __future__ import annotations

import re

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, Companion, ParseResult, RawPackage
from services.engine.purl import build_purl, os_qualifiers
from services.engine.requests import FileRequest

# name-version: the version is the first "-<digit>..." run that ends the directory name
_DIR = re.compile(r"^(?P<name>.+?)-(?P<version>\d[\w.]*(?:_(?:alpha|beta|pre|rc|p)\d*)*(?:-r\d+)?)$")


def split_package_dir(path: str) -> tuple[str, str, str] | None:
    """``var/db/pkg/app-misc/jq-1.7-r2/CONTENTS`` -> (``app-misc``, ``jq``, ``1.7-r2``)."""
    parts = path.strip("/").split("/")
    if len(parts) < 3:
        return None
    m = _DIR.match(parts[-2])
    return (parts[-3], m["name"], m["version"]) if m else None


def _owned(data: bytes) -> tuple[str, ...]:
    files: list[str] = []
    for line in data.decode("utf-8", "backslashreplace").splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "obj":
            files.append(rest.rsplit(" ", 2)[0].lstrip("/"))
        elif kind == "sym":
            files.append(rest.split(" -> ", 1)[0].lstrip("/"))
    return tuple(files)


def parse_portage_contents(path: str, data: bytes) -> ParseResult:
    """The package a CONTENTS file belongs to, with the files it lists."""
    found = split_package_dir(path)
    if found is None:
        return ParseResult(problems=[f"{path}: portage directory is not <category>/<name>-<version>"])
    category, name, version = found
    return ParseResult(
        packages=[
            RawPackage(name=f"{category}/{name}", version=version, namespace=category, files=_owned(data))
        ]
    )


def license_package(path: str) -> str:
    """``var/db/pkg/app-misc/jq-1.7/LICENSE`` -> ``app-misc/jq``."""
    found = split_package_dir(path)
    return f"{found[0]}/{found[1]}" if found else ""


def parse_license(data: bytes) -> list[str]:
    """Portage's LICENSE file: one licence expression on one line (``GPL-2+ || ( MIT BSD )``)."""
    text = " ".join(data.decode("utf-8", "replace").split())
    return [text] if text else []


def ebuild_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """The record keeps ``<category>/<name>``; the purl puts the category in its namespace."""
    short = raw.name.split("/", 1)[-1]
    purl = build_purl(
        "ebuild", short, raw.version, namespace=raw.namespace, qualifiers=os_qualifiers(distro, "")
    )
    return plain_record(raw, "ebuild", location, purl=purl)


_LICENSE = Companion(
    request=FileRequest(name="portage-license", patterns=("**/var/db/pkg/*/*/LICENSE",), max_bytes=64 * 1024),
    package=license_package,
    licenses=parse_license,
)

CATALOGER = Cataloger(
    name="portage-contents",
    package_type="ebuild",
    request=FileRequest(
        name="portage-contents", patterns=("**/var/db/pkg/*/*/CONTENTS",), max_bytes=32 * 1024 * 1024
    ),
    parse=parse_portage_contents,
    to_package=ebuild_to_package,
    tags=("os", "image", "directory"),
    companions=(_LICENSE,),
)
