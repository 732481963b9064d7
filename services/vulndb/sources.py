"""Where OSV records (and the KEV / EPSS feeds) come from: locating, fingerprinting and reading them.

An advisory source string names one of:

* an http(s) URL base laid out like the OSV bucket: ``<URL>/<Ecosystem>/all.zip``;
* a directory in that layout (``<dir>/<Ecosystem>/all.zip``; names may contain spaces);
* a single ``all.zip`` (or a directory holding one);
* a directory of OSV ``*.json`` files, searched recursively.

``plan`` turns the string into ``Unit``s. Each unit has a fingerprint that says whether it
changed since the last update: the HTTP ``ETag`` / ``Last-Modified`` (sent back as
``If-None-Match`` / ``If-Modified-Since``, a 304 meaning "unchanged"), or a local file's
mtime and size. ``fetch`` streams a URL to a file with constant memory; ``read_zip`` /
``read_json_dir`` yield ``(name, bytes)`` one member at a time. Bad *members* are yielded
as ``Problem``s; an unreadable *source* raises ``VulnDBError``.
"""

from __future__ import annotations

import asyncio
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal
from urllib.parse import quote

import msgspec

from services.common.errors import VulnDBError

if TYPE_CHECKING:
    import aiohttp

DEFAULT_ECOSYSTEMS: Final[tuple[str, ...]] = (
    "Debian",
    "Ubuntu",
    "Alpine",
    "Red Hat",
    "Rocky Linux",
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
_TICK_S: Final = 0.5  # at most this often a byte-count progress update


class Unit(msgspec.Struct, frozen=True, kw_only=True):
    """One readable piece of a source: a zip file, a folder of JSON files, or a zip to fetch."""

    kind: Literal["zip", "json-dir", "url"]
    location: str  # a path, or the URL for kind "url"
    ecosystem: str = ""  # the export folder name, when the layout tells us


class Problem(msgspec.Struct, frozen=True):
    """A member that could not be read: which one and why."""

    name: str
    reason: str


class Validators(msgspec.Struct, frozen=True, kw_only=True):
    """What identifies one version of a source: HTTP validators or a file's mtime and size."""

    etag: str = ""
    last_modified: str = ""
    file_stamp: str = ""  # "<mtime_ns>:<size>" of a local file or folder

    def fingerprint(self) -> str:
        """One comparable string; "" when nothing identifies the version (always re-read)."""
        if self.etag:
            return f"etag:{self.etag}"
        if self.last_modified:
            return f"last-modified:{self.last_modified}"
        return f"file:{self.file_stamp}" if self.file_stamp else ""


class Fetched(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of ``fetch``: "ok" (body written), "unchanged" (HTTP 304) or "missing" (404)."""

    status: Literal["ok", "unchanged", "missing"]
    validators: Validators = Validators()
    bytes: int = 0


ByteProgress = Callable[[int, int], None]
"""(bytes so far, total bytes or 0 when unknown)."""


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


def file_stamp(path: Path) -> str:
    """mtime (ns) and size of a file, or of a folder's ``*.json`` files taken together."""
    if not path.exists():
        raise VulnDBError(f"no source at {path}")
    try:
        if path.is_file():
            st = path.stat()
            return f"{st.st_mtime_ns}:{st.st_size}"
        newest = total = count = 0
        for file in path.rglob("*.json"):
            st = file.stat()
            newest, total, count = max(newest, st.st_mtime_ns), total + st.st_size, count + 1
        return f"{newest}:{total}:{count}"
    except OSError as exc:
        raise VulnDBError(f"cannot read advisory source {path}: {exc}") from exc


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


def _conditional_headers(previous: Validators | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if previous is not None and previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous is not None and previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    return headers


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    dest: Path,
    *,
    previous: Validators | None = None,
    on_bytes: ByteProgress | None = None,
) -> Fetched:
    """Stream ``url`` to ``dest`` unless it is unchanged since ``previous`` (a conditional GET).

    "missing" on HTTP 404 (that export does not exist); any other failure raises ``VulnDBError``.
    """
    import aiohttp  # imported where used: local-only updates do not pay for it

    try:
        async with session.get(url, headers=_conditional_headers(previous)) as resp:
            if resp.status == 304:
                return Fetched(status="unchanged", validators=previous or Validators())
            if resp.status == 404:
                return Fetched(status="missing")
            if resp.status != 200:
                raise VulnDBError(f"GET {url}: HTTP {resp.status} {resp.reason or ''}".rstrip())
            validators = Validators(
                etag=resp.headers.get("ETag", ""), last_modified=resp.headers.get("Last-Modified", "")
            )
            total = resp.content_length or 0
            done = 0
            last_tick = 0.0  # the first chunk is reported at once
            out = await asyncio.to_thread(dest.open, "wb")
            try:
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    await asyncio.to_thread(out.write, chunk)
                    done += len(chunk)
                    now = time.monotonic()
                    if on_bytes is not None and now - last_tick >= _TICK_S:
                        last_tick = now
                        on_bytes(done, total)
            finally:
                await asyncio.to_thread(out.close)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise VulnDBError(f"GET {url}: {exc}") from exc
    if total and done != total:
        raise VulnDBError(f"GET {url}: body ended after {done} of {total} bytes")
    return Fetched(status="ok", validators=validators, bytes=done)
