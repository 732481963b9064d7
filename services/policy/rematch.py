"""Rematch: stored package inventories against the current advisory database, without a rescan.

The latest stored scan of each digest (``scans.packages``, ``scans.image``) is matched again
(``match_packages``), evaluated under the image's rulesets, diffed against the stored findings
and the ``new``/``changed``/``resolved`` events returned for publication. Only the advisory side
is re-evaluated (``REMATCH_CATEGORIES``: CVE, Coverage, ImageScan): content detections are not
in the advisory database, so a rematch never resolves them; their stored findings still count
toward the thresholds.

The evaluation id is ``rematch:<advisory build>``: running the same build again replays the
changes the first run made instead of finding new ones (see ``store/findings.py``).

Two entry points: ``assay rematch [--digest D]`` and the policy service's watcher
(``watch_advisories``), which notices a new advisory build in the SQLite file and rematches
under a PostgreSQL advisory lock, so one replica does the work and the others skip it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import msgspec

from schemas.records import ImageInfo, PackageRecord
from services.common.errors import VulnDBError
from services.common.runner import Outgoing
from services.common.store.postgres import Store
from services.engine.core import utcnow
from services.policy.catalog import Rulesets
from services.policy.evaluation import REMATCH_CATEGORIES, evaluate_image
from services.policy.inventories import Inventories, MissingInventory
from services.vulndb.coverage import scan_gaps
from services.vulndb.db import VulnDB
from services.vulndb.matcher import match_packages

__all__ = [
    "ADVISORY_BUILD_KEY",
    "REMATCH_LOCK",
    "advisory_build",
    "rematch",
    "rematch_if_changed",
    "watch_advisories",
]

log = logging.getLogger(__name__)

ADVISORY_BUILD_KEY = "advisory_build"  # policy_state key: the build last rematched
REMATCH_LOCK = "assay-rematch"  # advisory lock name: one rematch at a time across replicas

Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]

_PACKAGES = msgspec.json.Decoder(list[PackageRecord])
_IMAGE = msgspec.json.Decoder(ImageInfo)


def advisory_build(db: VulnDB) -> str:
    """The build id of an advisory database: its ``built_at`` plus a hash of every meta row."""
    meta = db.meta()
    digest = hashlib.sha256(msgspec.json.encode(sorted(meta.items()))).hexdigest()[:16]
    return f"{meta.get('built_at', 'unknown')}/{digest}"


async def rematch(
    store: Store,
    rulesets: Rulesets,
    db: VulnDB,
    *,
    publish: Publish,
    digest: str | None = None,
    today: dt.date | None = None,
    inventories: Inventories | None = None,
) -> int:
    """Rematch every stored digest (or ``digest``) against ``db``; publish each image's events as
    soon as they are stored; the number of events published."""
    evaluation_id = f"rematch:{advisory_build(db)}"
    published = 0
    kept = inventories or Inventories(store)
    for scan in await store.lifecycle.latest_scans(digest):
        image = _IMAGE.decode(scan.image_json)
        try:
            packages = _PACKAGES.decode(await kept.packages_json(scan))
        except MissingInventory as exc:
            log.error("rematch: %s; %s left as it was (a rescan stores a new inventory)", exc, scan.digest)
            continue
        result = await asyncio.to_thread(match_packages, db, image.distro, packages)
        now = utcnow()
        day = today or dt.date.fromisoformat(now[:10])
        events = await evaluate_image(
            store,
            rulesets,
            evaluation_id=evaluation_id,
            digest=scan.digest,
            image_ref=image.ref,
            now=now,
            matches=result.matches,
            gaps=scan_gaps(result.notes, image.distro, day),
            categories=REMATCH_CATEGORIES,
        )
        if events:
            await publish(events)
            published += len(events)
        log.debug("rematch %s: %d events", scan.digest, len(events))
    return published


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


async def rematch_if_changed(
    store: Store,
    rulesets: Rulesets,
    db_path: Path,
    *,
    publish: Publish,
    inventories: Inventories | None = None,
) -> int | None:
    """Rematch when the database at ``db_path`` is a build not rematched yet; None when nothing
    was done (no database, same build, or another replica holds the rematch lock)."""
    try:
        db = await asyncio.to_thread(VulnDB.open, db_path)
    except VulnDBError as exc:
        log.debug("rematch: %s", exc)
        return None
    try:
        build = advisory_build(db)
        if await store.lifecycle.get_state(ADVISORY_BUILD_KEY) == build:
            return None
        async with store.lifecycle.exclusive(REMATCH_LOCK) as mine:
            if not mine or await store.lifecycle.get_state(ADVISORY_BUILD_KEY) == build:
                return None
            log.info("rematch: advisory database %s is new; rematching stored inventories", build)
            count = await rematch(store, rulesets, db, publish=publish, inventories=inventories)
            await store.lifecycle.set_state(ADVISORY_BUILD_KEY, build)
            log.info("rematch: %s done, %d finding events published", build, count)
            return count
    finally:
        db.close()


async def watch_advisories(
    store: Store,
    rulesets: Rulesets,
    db_path: Path,
    *,
    publish: Publish,
    stop: asyncio.Event,
    interval_s: float,
    inventories: Inventories | None = None,
) -> None:
    """Until ``stop``: look at ``db_path`` every ``interval_s`` seconds and rematch on a new build.

    The file is opened only when its inode, mtime or size changed (``assay db update`` replaces it
    atomically), and once at start.
    """
    seen: tuple[int, int, int] | None = None
    first = True
    while not stop.is_set():
        stamp = _file_stamp(db_path)
        if stamp is not None and (first or stamp != seen):
            await rematch_if_changed(store, rulesets, db_path, publish=publish, inventories=inventories)
            seen, first = stamp, False
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        except TimeoutError:
            continue
