"""``assay feeds update``: fetch threat feeds (files or URLs), parse them, store them as one file.

The stored file is written atomically (a temporary file renamed over the old one), so a
scan reading it never sees half an update. Scans load it once per process.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import msgspec

from services.common.errors import ConfigError
from services.engine.content.netioc.feeds import FeedEntries, FeedIndex, load_feed

_TIMEOUT = aiohttp.ClientTimeout(total=300)


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


async def update_feeds(sources: Sequence[str], out: Path) -> list[FeedEntries]:
    """Fetch and parse every source, then replace ``out`` with all of them."""
    feeds = [load_feed(feed_name(s), await _read(s)) for s in sources]
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".feeds-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(msgspec.json.encode(feeds))
    os.replace(tmp, out)
    return feeds


def load_index(path: Path) -> FeedIndex:
    """The stored feeds as an index; an absent file is an empty index."""
    if not path.is_file():
        return FeedIndex([])
    try:
        feeds = msgspec.json.decode(path.read_bytes(), type=list[FeedEntries])
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{path}: unreadable feed store ({exc}); run `assay feeds update` again") from exc
    return FeedIndex(feeds)
