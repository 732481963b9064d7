"""Content bundles: the threat feeds, YARA rules and hash lists the updater publishes for engines.

Each kind with configured sources (``ASSAY_UPDATER_FEEDS_SOURCES``, ``..._YARA_SOURCES``,
``..._HASH_LIST_SOURCES``) becomes one bundle of every file those sources name: a file or a URL is
one file (named by the last part of its path), a directory stands for its regular files (hidden
ones left out; for YARA only ``*.yar``/``*.yara``). A bundle always holds every configured file,
so feeds are merged by name the way ``assay feeds update`` merges them; one that holds the same
files as the current bundle is not stored again. A new bundle is stored, pointed at
(``services/common/bundles.py``) and announced on ``assay.advisories.v1``; engines load it and
switch their analyzers without a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from schemas.events import ContentBundlePublished
from schemas.topics import Topics
from schemas.vocabulary import BundleKind
from services.common.bundles import BundleError, BundleFile, ContentBundle, store_bundle
from services.common.bus.interface import Bus
from services.common.clock import utcnow
from services.common.objectstore import ObjectStore, ObjectStoreError
from services.common.runner import publish_event
from services.vulndb.sources import is_url

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["BundlePlan", "collect_files", "publish_bundles"]

log = logging.getLogger(__name__)

_YARA_SUFFIXES = (".yar", ".yara")
_FETCH_TIMEOUT_S = 300.0


class BundlePlan(msgspec.Struct, frozen=True, kw_only=True):
    """The sources of each bundle kind (only kinds with sources are published)."""

    sources: dict[BundleKind, list[str]]

    @classmethod
    def from_settings(cls, settings: Settings) -> BundlePlan:
        cfg = settings.updater
        pairs: tuple[tuple[BundleKind, list[str]], ...] = (
            ("threat-feeds", cfg.feeds_sources),
            ("yara-rules", cfg.yara_sources),
            ("hash-list", cfg.hash_list_sources),
        )
        return cls(sources={kind: kept for kind, where in pairs if (kept := [s for s in where if s.strip()])})


def _name(source: str) -> str:
    return source.rstrip("/").rsplit("/", 1)[-1] or source


def _local_files(kind: BundleKind, source: str) -> list[BundleFile]:
    path = Path(source)
    try:
        if not path.is_dir():
            return [BundleFile(path.name, path.read_bytes())]
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if kind == "yara-rules":
            files = [p for p in files if p.suffix in _YARA_SUFFIXES]
        return [BundleFile(p.name, p.read_bytes()) for p in files]
    except OSError as exc:
        raise BundleError(f"{kind} source {source}: {exc.strerror or exc}") from exc


async def _fetch(source: str) -> BundleFile:
    import aiohttp  # imported where used: local sources do not pay for it

    timeout = aiohttp.ClientTimeout(total=_FETCH_TIMEOUT_S)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(source) as resp:
            if resp.status != 200:
                raise BundleError(f"{source}: HTTP {resp.status}")
            return BundleFile(_name(source), await resp.read())
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise BundleError(f"{source}: {exc}") from exc


async def collect_files(kind: BundleKind, sources: Sequence[str]) -> ContentBundle:
    """Every file ``sources`` name, sorted by name (a later source wins a name clash);
    ``BundleError`` when a source cannot be read or none holds a file."""
    by_name: dict[str, BundleFile] = {}
    for source in sources:
        got = (
            [await _fetch(source)] if is_url(source) else await asyncio.to_thread(_local_files, kind, source)
        )
        by_name.update((f.name, f) for f in got)
    if not by_name:
        raise BundleError(f"{kind}: no files in {', '.join(sources)}")
    return ContentBundle(kind=kind, files=[by_name[n] for n in sorted(by_name)])


async def publish_bundles(plan: BundlePlan, bus: Bus, objects: ObjectStore) -> list[ContentBundlePublished]:
    """Collect, store and announce every planned kind whose files changed; the announced ones.

    A kind whose sources cannot be read is logged and left as it was (engines keep its current
    bundle); the other kinds go on.
    """
    announced: list[ContentBundlePublished] = []
    for kind, sources in plan.sources.items():
        try:
            bundle = await collect_files(kind, sources)
            published, new = await store_bundle(objects, bundle, list(sources))
        except (BundleError, ObjectStoreError) as exc:
            log.error("updater: %s bundle not refreshed: %s", kind, exc)
            continue
        if not new:
            log.info("updater: %s unchanged; bundle %s is current", kind, published.build_id)
            continue
        published = msgspec.structs.replace(published, published_at=utcnow())
        await publish_event(bus, Topics.ADVISORIES, published.build_id, published)
        log.info(
            "updater: announced %s bundle %s (%d files) on %s",
            kind,
            published.build_id,
            published.files,
            Topics.ADVISORIES,
        )
        announced.append(published)
    return announced
