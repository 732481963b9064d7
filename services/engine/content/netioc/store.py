"""``assay feeds update``: fetch threat feeds (files, directories or URLs), parse them, store them.

Feeds are stored together in one JSON file, merged by feed name (the file name of its path or
URL): updating a feed replaces that feed only, so feeds can be added one call at a time. A
directory source stands for every regular file in it (sorted, hidden files left out). The
stored file is written atomically (a temporary file renamed over the old one), so a scan
reading it never sees half an update. Scans load it once per process, and say so on stderr
(a logged warning) when it holds no feed: URL/IP analysis then finds nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import msgspec

from services.common.errors import ConfigError
from services.common.files import write_atomic
from services.engine.content.netioc.feeds import FeedEntries, FeedIndex, load_feed
from services.engine.content.netioc.prefilter import IndicatorPrefilter

_TIMEOUT = aiohttp.ClientTimeout(total=300)
log = logging.getLogger(__name__)


def feed_name(source: str) -> str:
    """A feed's name: the file name of its path or URL."""
    return source.rstrip("/").rsplit("/", 1)[-1] or source


async def _read(source: str) -> bytes:
    if source.startswith(("http://", "https://")):
        async with aiohttp.ClientSession(timeout=_TIMEOUT) as session, session.get(source) as resp:
            if resp.status != 200:
                raise ConfigError(f"feed {source}: HTTP {resp.status}")
            return await resp.read()
    try:
        return await asyncio.to_thread(Path(source).read_bytes)
    except OSError as exc:
        raise ConfigError(f"feed {source}: {exc.strerror or exc}") from exc


def expand_sources(sources: Sequence[str]) -> list[str]:
    """Each source as given, except a local directory, which stands for its regular files."""
    out: list[str] = []
    for source in sources:
        path = Path(source)
        if not source.startswith(("http://", "https://")) and path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not files:
                raise ConfigError(f"feed directory {source}: no feed files in it")
            out.extend(str(p) for p in files)
        else:
            out.append(source)
    return out


def read_store(path: Path) -> list[FeedEntries]:
    """The stored feeds; none when the file is absent."""
    if not path.is_file():
        return []
    try:
        return msgspec.json.decode(path.read_bytes(), type=list[FeedEntries])
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{path}: unreadable feed store ({exc}); run `assay feeds update` again") from exc


async def update_feeds(sources: Sequence[str], out: Path) -> list[FeedEntries]:
    """Fetch and parse every source and merge them into ``out`` by feed name; returns the new ones.

    A stored feed of the same name is replaced; other stored feeds are kept.
    """
    expanded = await asyncio.to_thread(expand_sources, sources)
    feeds = [load_feed(feed_name(s), await _read(s)) for s in expanded]
    fresh = {f.name: f for f in feeds}
    kept = [f for f in await asyncio.to_thread(read_store, out) if f.name not in fresh]
    write_atomic(out, msgspec.json.encode([*kept, *fresh.values()]), prefix=".feeds-")
    index = FeedIndex([*kept, *fresh.values()], store=out)
    await asyncio.to_thread(IndicatorPrefilter, index)  # compiled once here, loaded by every scan
    return list(fresh.values())


NO_FEEDS = "no threat feeds loaded ({}): URL/IP analysis finds nothing; add feeds with `assay feeds update`"


def load_index(path: Path) -> FeedIndex:
    """The stored feeds as an index; an absent file is an empty index, with a warning that says so."""
    index = FeedIndex(read_store(path), store=path)
    if not index:
        log.warning(NO_FEEDS.format(path))
    return index
