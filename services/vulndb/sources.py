"""Where OSV records come from: locating the pieces of a source and reading them one at a time.

A source string names one of:

* an http(s) URL base laid out like the OSV bucket: ``<URL>/<Ecosystem>/all.zip``;
* a directory in that layout (``<dir>/<Ecosystem>/all.zip``; names may contain spaces);
* a single ``all.zip`` (or a directory holding one);
* a directory of OSV ``*.json`` files, searched recursively.

``plan`` turns the string into ``Unit``s; ``read_zip`` / ``read_json_dir`` yield
``(name, bytes)`` pairs one member at a time so memory stays bounded; ``download``
streams one URL to a file. Bad *members* are yielded as ``Problem``s; an unreadable
*source* raises ``VulnDBError``.
"""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final, Literal
from urllib.parse import quote

import aiohttp
import msgspec

from services.common.errors import VulnDBError

DEFAULT_ECOSYSTEMS: Final[tuple[str, ...]] = (
    "Debian",
    "Ubuntu",
    "Alpine",
    "Red Hat",
    "AlmaLinux",
    "PyPI",
    "npm",
    "Maven",
    "RubyGems",
    "NuGet",
    "Go",
    "crates.io",
    "Packagist",
)

MAX_RECORD_BYTES: Final = 32 * 1024 * 1024  # one advisory larger than this is not an advisory
_CHUNK: Final = 1 << 16


class Unit(msgspec.Struct, frozen=True, kw_only=True):
    """One readable piece of a source: a zip file, a folder of JSON files, or a zip to fetch."""

    kind: Literal["zip", "json-dir", "url"]
    location: str  # a path, or the URL for kind "url"
    ecosystem: str = ""  # the export folder name, when the layout tells us


class Problem(msgspec.Struct, frozen=True):
    """A member that could not be read: which one and why."""

    name: str
    reason: str


def is_url(source: str) -> bool:
    """Whether ``source`` is an http(s) URL rather than a path."""
    return source.startswith(("http://", "https://"))


def plan(source: str, ecosystems: Sequence[str] | None = None) -> list[Unit]:
    """The units to read for ``source``, restricted to ``ecosystems`` (export folder names)
    where the layout is per ecosystem. Raises ``VulnDBError`` if ``source`` is nothing we can read."""
    if is_url(source):
        base = source.rstrip("/")
        return [
            Unit(kind="url", location=f"{base}/{quote(eco)}/all.zip", ecosystem=eco)
            for eco in (ecosystems or DEFAULT_ECOSYSTEMS)
        ]
    path = Path(source)
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise VulnDBError(f"advisory source {path} is not a zip file")
        return [Unit(kind="zip", location=str(path))]
    if not path.is_dir():
        raise VulnDBError(f"no advisory source at {path}")
    if (path / "all.zip").is_file():
        return [Unit(kind="zip", location=str(path / "all.zip"))]
    exports = sorted(p for p in path.iterdir() if (p / "all.zip").is_file())
    if exports:
        wanted = set(ecosystems) if ecosystems else None
        return [
            Unit(kind="zip", location=str(p / "all.zip"), ecosystem=p.name)
            for p in exports
            if wanted is None or p.name in wanted
        ]
    return [Unit(kind="json-dir", location=str(path))]


def read_zip(path: Path) -> Iterator[tuple[str, bytes] | Problem]:
    """Each ``*.json`` member of an OSV export zip, in archive order, one at a time."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise VulnDBError(f"cannot open advisory archive {path}: {exc}") from exc
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.endswith(".json"):
                continue
            if info.file_size > MAX_RECORD_BYTES:
                yield Problem(info.filename, f"member is {info.file_size} bytes, over the limit")
                continue
            try:
                yield info.filename, archive.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                yield Problem(info.filename, f"cannot read member: {exc}")


def read_json_dir(path: Path) -> Iterator[tuple[str, bytes] | Problem]:
    """Each ``*.json`` file under ``path`` (recursively, sorted), one at a time."""
    for file in sorted(path.rglob("*.json")):
        name = str(file.relative_to(path))
        if not file.is_file():
            continue
        try:
            size = file.stat().st_size
            if size > MAX_RECORD_BYTES:
                yield Problem(name, f"file is {size} bytes, over the limit")
                continue
            yield name, file.read_bytes()
        except OSError as exc:
            yield Problem(name, f"cannot read file: {exc}")


async def download(session: aiohttp.ClientSession, url: str, dest: Path) -> bool:
    """Stream ``url`` to ``dest``. False on HTTP 404 (that export does not exist); any other
    failure raises ``VulnDBError``."""
    try:
        async with session.get(url) as resp:
            if resp.status == 404:
                return False
            if resp.status != 200:
                raise VulnDBError(f"GET {url}: HTTP {resp.status} {resp.reason or ''}".rstrip())
            out = await asyncio.to_thread(dest.open, "wb")
            try:
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    await asyncio.to_thread(out.write, chunk)
            finally:
                await asyncio.to_thread(out.close)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise VulnDBError(f"GET {url}: {exc}") from exc
    return True
