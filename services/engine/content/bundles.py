"""The engine's content analyzers, switched to the updater's newest content bundles without a restart.

The updater stores threat feeds, YARA rules and hash lists as bundles and points at the newest
of each kind (``services/common/bundles.py``). ``ContentBundles.step`` reads those pointers; a
bundle it has not loaded yet is downloaded, its SHA-256 checked, and unpacked into this process's
cache directory in the form the analyzers read from their settings (a feed store, a rules
directory, a blocklist file). Then the content analyzers are built anew from settings naming those
files, and the new ``ContentNow`` (settings, analyzers, analysis version) replaces the old one in
one reference assignment: a scan takes ``current()`` when it starts and keeps it to its end, and
an isolated scan's child builds its analyzers from the settings it is handed, so it reads the same
files. A bundle that does not parse or compile is logged and the current analyzers stay. Without
any bundle the analyzers read the local files the settings name (``assay feeds update``'s store).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from schemas.vocabulary import BUNDLE_KINDS, BundleKind
from services.common.bundles import BundleError, ContentBundle, current_bundle, load_bundle
from services.common.errors import ConfigError
from services.common.files import left_by_a_dead_process, write_atomic
from services.common.objectstore import ObjectStore, ObjectStoreError
from services.engine.content.netioc.feeds import load_feed
from services.engine.content.registry import ContentAnalysis, build_analyzers
from services.engine.core import analysis_version
from services.vulndb.builds import advisory_objects, wait_for_any

if TYPE_CHECKING:
    from services.common.aws import AwsClients
    from services.settings import Settings

__all__ = ["ContentBundles", "ContentNow", "open_bundles", "with_bundles"]

log = logging.getLogger(__name__)

_KEEP = 2  # bundles kept on disk per kind: the current one and the one a running child may still read


@dataclass(frozen=True)
class ContentNow:
    """What one scan uses: settings naming the loaded bundles' files, the analyzers built from them
    and their analysis version."""

    settings: Settings
    content: ContentAnalysis
    version: str


def with_bundles(settings: Settings, paths: dict[BundleKind, Path]) -> Settings:
    """``settings`` with the analyzers' files replaced by the unpacked bundles in ``paths``."""
    feeds, malware = settings.feeds, settings.malware
    if "threat-feeds" in paths:
        feeds = msgspec.structs.replace(feeds, path=str(paths["threat-feeds"]))
    if "yara-rules" in paths:
        malware = msgspec.structs.replace(malware, yara_rules_dir=str(paths["yara-rules"]))
    if "hash-list" in paths:
        malware = msgspec.structs.replace(malware, sha256_blocklist=str(paths["hash-list"]))
    return msgspec.structs.replace(settings, feeds=feeds, malware=malware)


def unpack(bundle: ContentBundle, directory: Path) -> Path:
    """Write ``bundle`` under ``directory`` as its analyzer reads it; the path its setting names."""
    directory.mkdir(parents=True, exist_ok=True)
    if bundle.kind == "threat-feeds":
        feeds = [load_feed(f.name, f.data) for f in bundle.files]
        for problem in (p for feed in feeds for p in feed.problems):
            log.warning("threat feeds: %s", problem)
        target = directory / "feeds.json"
        write_atomic(target, msgspec.json.encode(feeds), prefix=".feeds-")
        return target
    if bundle.kind == "yara-rules":
        rules = directory / "rules"
        rules.mkdir(exist_ok=True)
        for f in bundle.files:
            write_atomic(rules / Path(f.name).name, f.data, prefix=".rule-")
        return rules
    target = directory / "blocklist.txt"
    write_atomic(target, b"\n".join(f.data.rstrip(b"\n") for f in bundle.files) + b"\n", prefix=".hashes-")
    return target


def _remove_orphans(root: Path) -> None:
    """Remove the bundle directories of engine processes that are gone."""
    for path in root.glob("engine-*"):
        if left_by_a_dead_process(path.name.removeprefix("engine-")):
            shutil.rmtree(path, ignore_errors=True)


class ContentBundles:
    """The current content analyzers of one engine process, following the published bundles."""

    def __init__(
        self, settings: Settings, base: ContentAnalysis, objects: ObjectStore | None, root: Path
    ) -> None:
        self._settings = settings
        self._base = base
        self._objects = objects
        self._dir = root / f"engine-{os.getpid()}"
        self._root = root
        self._loaded: dict[BundleKind, tuple[str, Path]] = {}  # kind -> (build id, unpacked path)
        self._history: dict[BundleKind, list[Path]] = {}
        self._swept = False  # the directories of dead engine processes removed
        self._now = ContentNow(settings, base, analysis_version(base.analyzers))
        # told each new analysis version (the engine records it: dedupe then asks for scans again)
        self.on_switch: Callable[[str], Awaitable[object]] | None = None

    def current(self) -> ContentNow:
        """What a scan starting now uses."""
        return self._now

    @property
    def builds(self) -> dict[BundleKind, str]:
        """The build id of every loaded bundle."""
        return {kind: build for kind, (build, _) in self._loaded.items()}

    async def _fetch_new(self) -> dict[BundleKind, tuple[str, Path]]:
        assert self._objects is not None
        fresh: dict[BundleKind, tuple[str, Path]] = {}
        for kind in BUNDLE_KINDS:
            try:
                published = await current_bundle(self._objects, kind)
                if published is None or self.builds.get(kind) == published.build_id:
                    continue
                bundle = await load_bundle(self._objects, published)
            except (BundleError, ObjectStoreError) as exc:
                log.error("content bundles: %s; keeping %s", exc, self.builds.get(kind, "the local files"))
                continue
            safe = hashlib.sha256(published.build_id.encode()).hexdigest()[:24]
            path = await asyncio.to_thread(unpack, bundle, self._dir / kind / safe)
            fresh[kind] = (published.build_id, path)
        return fresh

    async def step(self) -> bool:
        """One look at the published bundles; True when the analyzers were switched."""
        if self._objects is None:
            return False
        if not self._swept:
            await asyncio.to_thread(_remove_orphans, self._root)
            self._swept = True
        fresh = await self._fetch_new()
        if not fresh:
            return False
        loaded = {**self._loaded, **fresh}
        settings = with_bundles(self._settings, {kind: path for kind, (_, path) in loaded.items()})
        try:
            analyzers = await asyncio.to_thread(build_analyzers, settings)
        except ConfigError as exc:
            log.error("content bundles %s: %s; keeping the current analyzers", sorted(fresh), exc)
            for _, path in fresh.values():
                shutil.rmtree(path.parent, ignore_errors=True)  # the build's directory
            return False
        self._now = ContentNow(
            settings, ContentAnalysis(analyzers, self._base.cache), analysis_version(analyzers)
        )
        self._loaded = loaded
        for kind, (build, path) in fresh.items():
            log.info("content analyzers: now %s bundle %s", kind, build)
            self._retire(kind, path)
        return True

    async def run(self, stop: asyncio.Event, *, interval_s: float) -> None:
        """``step`` every ``interval_s`` until ``stop``, telling ``on_switch`` each new analysis version."""
        while not stop.is_set():
            await wait_for_any(stop, None, timeout_s=interval_s)
            if await self.step() and self.on_switch is not None:
                await self.on_switch(self._now.version)

    def _retire(self, kind: BundleKind, path: Path) -> None:
        """Remember ``path`` as ``kind``'s newest and remove what is older than the last ``_KEEP``."""
        history = self._history.setdefault(kind, [])
        history.append(path.parent)
        while len(history) > _KEEP:
            shutil.rmtree(history.pop(0), ignore_errors=True)


async def open_bundles(
    settings: Settings,
    clients: AwsClients | None,
    on_switch: Callable[[str], Awaitable[object]] | None = None,
) -> ContentBundles:
    """The engine's content analyzers (built from ``settings``; ``ConfigError`` when a rules file is
    bad) following the bundles in the object store the updater writes to, after a first look;
    ``on_switch`` is told the analysis version then and after each switch."""
    base = await asyncio.to_thread(ContentAnalysis.from_settings, settings)
    objects = await advisory_objects(settings, clients)
    bundles = ContentBundles(settings, base, objects, settings.effective_data_dir / "content-bundles")
    bundles.on_switch = on_switch
    await bundles.step()
    if on_switch is not None:
        await on_switch(bundles.current().version)
    return bundles
