"""Python packages installed as zipped eggs: ``site-packages/<name>-<version>-py3.X.egg``.

``easy_install`` (and old ``setup.py install``) can install a package as one zip file whose
``EGG-INFO/PKG-INFO`` holds the core metadata, read as the unzipped forms are
(``parse_metadata``). The archive is read as a stream with a cap on the member's size; an egg
that is not a zip, or has no ``EGG-INFO/PKG-INFO``, is a problem naming the file.
"""

from __future__ import annotations

import io
import zipfile
from typing import IO

import msgspec

from services.engine.catalogers.interface import Cataloger, ParseResult
from services.engine.catalogers.python.parse_metadata import parse_python_metadata, python_to_package
from services.engine.requests import FileRequest

_MEMBER = "EGG-INFO/PKG-INFO"
_MEMBER_MAX = 4 * 1024 * 1024


def parse_egg_archive_stream(path: str, f: IO[bytes]) -> ParseResult:
    """The package a zipped egg's ``EGG-INFO/PKG-INFO`` names."""
    try:
        with zipfile.ZipFile(f) as archive:
            info = archive.getinfo(_MEMBER)
            if info.file_size > _MEMBER_MAX:
                return ParseResult(problems=[f"{path}: {_MEMBER} of {info.file_size} bytes is too large"])
            with archive.open(info) as member:
                data = member.read(_MEMBER_MAX + 1)
    except KeyError:
        return ParseResult(problems=[f"{path}: egg without {_MEMBER}"])
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        return ParseResult(problems=[f"{path}: not a readable zip archive: {exc}"])
    result = parse_python_metadata(f"{path}:{_MEMBER}", data)
    packages = [
        msgspec.structs.replace(raw, metadata={**raw.metadata, "kind": "egg-zip"}) for raw in result.packages
    ]
    return ParseResult(packages=packages, problems=result.problems)


def parse_egg_archive(path: str, data: bytes) -> ParseResult:
    """``parse_egg_archive_stream`` on bytes already read."""
    return parse_egg_archive_stream(path, io.BytesIO(data))


CATALOGER = Cataloger(
    name="python-egg-archive",
    package_type="pypi",
    request=FileRequest(
        name="python-egg-archive",
        patterns=("**/*.egg",),
        max_bytes=256 * 1024 * 1024,
        magic=(b"PK\x03\x04",),
        spool=True,
        report_oversize=False,
    ),
    parse=parse_egg_archive,
    parse_stream=parse_egg_archive_stream,
    to_package=python_to_package,
    tags=("language", "image", "directory"),
)
