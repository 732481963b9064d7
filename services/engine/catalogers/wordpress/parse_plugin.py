"""WordPress plugins: the main PHP file of ``wp-content/plugins/<slug>/``.

WordPress reads a plugin's header comment from the first 8 KiB of its main file
(``get_file_data``): ``Plugin Name:``, ``Version:``, ``License:``, ``Author:``. Other PHP
files of the plugin carry no such header and are left out. The package is named by its
``Plugin Name`` (as syft does); the purl uses the directory slug, the name WordPress'
plugin directory and vulnerability databases use: ``pkg:wordpress-plugin/<slug>@<version>``.
"""

from __future__ import annotations

import re

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.purl import build_purl
from services.engine.requests import FileRequest

_HEADER_BYTES = 8192
_FIELDS = {
    "name": re.compile(r"(?im)^[ \t/*#@]*Plugin Name:[ \t]*(.+?)[ \t]*(?:\*/)?$"),
    "version": re.compile(r"(?im)^[ \t/*#@]*Version:[ \t]*(\d[\w.+-]*)"),
    "license": re.compile(r"(?im)^[ \t/*#@]*License:[ \t]*(.+?)[ \t]*(?:\*/)?$"),
    "author": re.compile(r"(?im)^[ \t/*#@]*Author:[ \t]*(.+?)[ \t]*(?:\*/)?$"),
}


def _header(data: bytes) -> dict[str, str]:
    text = data[:_HEADER_BYTES].decode("utf-8", "replace").replace("\r", "")
    return {key: m[1] for key, pattern in _FIELDS.items() if (m := pattern.search(text))}


def parse_plugin(path: str, data: bytes) -> ParseResult:
    """The plugin a main file's header names; a file without the header is not a plugin's main file."""
    fields = _header(data)
    if "name" not in fields:
        return ParseResult()
    if "version" not in fields:
        return ParseResult(problems=[f"{path}: plugin header without a Version"])
    slug = path.rstrip("/").split("/")[-2]
    metadata = {"slug": slug, **({"author": fields["author"]} if "author" in fields else {})}
    licenses = (fields["license"],) if "license" in fields else ()
    return ParseResult(
        packages=[
            RawPackage(name=fields["name"], version=fields["version"], licenses=licenses, metadata=metadata)
        ]
    )


def wordpress_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    purl = build_purl("wordpress-plugin", raw.metadata.get("slug") or raw.name, raw.version)
    return plain_record(raw, "wordpress-plugin", location, purl=purl)


CATALOGER = Cataloger(
    name="wordpress-plugin",
    package_type="wordpress-plugin",
    request=FileRequest(
        name="wordpress-plugin",
        patterns=("**/wp-content/plugins/*/*.php",),
        max_bytes=4 << 20,
        text_only=True,
        accept=lambda _path, data: b"plugin name:" in data[:_HEADER_BYTES].lower(),
    ),
    parse=parse_plugin,
    to_package=wordpress_to_package,
    tags=("language", "image", "directory"),
)
