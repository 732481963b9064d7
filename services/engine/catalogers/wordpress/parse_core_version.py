"""The WordPress core itself: ``wp-includes/version.php`` sets ``$wp_version = '6.4.3';``.

Comments (``//`` and ``/* ... */``) are skipped, and only the plain ``$wp_version`` variable
counts (``$wp_db_version`` and the like name other things). The package is ``wordpress``,
as Trivy reports it; the purl is ``pkg:wordpress/wordpress@<version>``.
"""

from __future__ import annotations

import re

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_VERSION = re.compile(r"""^\s*\$wp_version\s*=\s*['"]([^'"\s]+)['"]\s*;""", re.MULTILINE)


def parse_core_version(path: str, data: bytes) -> ParseResult:
    """The WordPress version ``version.php`` sets; a file without it is a problem."""
    text = _BLOCK_COMMENT.sub("", data.decode("utf-8", "replace"))
    text = re.sub(r"(?m)//.*$", "", text)
    m = _VERSION.search(text)
    if m is None:
        return ParseResult(problems=[f"{path}: no $wp_version assignment"])
    return ParseResult(packages=[RawPackage(name="wordpress", version=m[1])])


def wordpress_core_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "wordpress", location)


CATALOGER = Cataloger(
    name="wordpress-core",
    package_type="wordpress",
    request=FileRequest(name="wordpress-core", patterns=("**/wp-includes/version.php",), max_bytes=1 << 20),
    parse=parse_core_version,
    to_package=wordpress_core_to_package,
    tags=("language", "image", "directory"),
)
