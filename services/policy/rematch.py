"""Rematch: stored package inventories against the current advisory database, without a rescan.

The latest stored scan of each digest (``scans.packages``, ``scans.image``) is matched again
(``match_packages``), evaluated under the image's rulesets, diffed against the stored findings
and the ``new``/``changed``/``resolved`` events returned for publication. Only the advisory side
is re-evaluated (``REMATCH_CATEGORIES``: CVE, Coverage, ImageScan): content detections are not
in the advisory database, so a rematch never resolves them; their stored findings still count
toward the thresholds.

The evaluation id is ``rematch:<advisory build>``: running the same build again replays the
changes the first run made instead of finding new ones (see ``store/findings.py``).

Two entry points: ``assay rematch [--digest D]`` and the policy service, which rematches when
its advisory database holder switches to a new build (``services/policy/advisories.py``), under
a PostgreSQL advisory lock, so one replica does the work and the others skip it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import msgspec

from schemas.records import ImageInfo, PackageRecord
from services.common.clock import utcnow
from services.common.errors import VulnDBError
from services.common.runner import Outgoing
from services.common.store.postgres import Store
from services.common.store.scans import StoredScan, latest_scans
from services.policy.catalog import Rulesets
from services.policy.evaluation import REMATCH_CATEGORIES, evaluate_image
from services.policy.inventories import Inventories, MissingInventory
from services.policy.store import Lifecycle
from services.vulndb.builds import BuildHolder, file_build_id
from services.vulndb.coverage import scan_gaps
from services.vulndb.db import VulnDB
from services.vulndb.matcher import match_packages

__all__ = [
    "ADVISORY_BUILD_KEY",
    "REMATCH_LOCK",
    "advisory_build",
    "rematch",
    "rematch_current",
    "rematch_if_changed",
    "rematch_if_new",
]

log = logging.getLogger(__name__)

ADVISORY_BUILD_KEY = "advisory_build"  # policy_state key: the build last rematched
REMATCH_LOCK = "assay-rematch"  # advisory lock name: one rematch at a time across replicas
REMATCH_CONCURRENCY = 4  # images rematched at once (database round trips overlap; pool of 10)

Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]

_PACKAGES = msgspec.json.Decoder(list[PackageRecord])
_IMAGE = msgspec.json.Decoder(ImageInfo)


def advisory_build(db: VulnDB) -> str:
    """The build id of an advisory database file: its ``built_at`` plus a hash of every meta row."""
    return file_build_id(db)


async def rematch(
    store: Store,
    rulesets: Rulesets,
    db: VulnDB,
    *,
    publish: Publish,
    digest: str | None = None,
    today: dt.date | None = None,
    inventories: Inventories | None = None,
    build: str | None = None,
    concurrency: int = REMATCH_CONCURRENCY,
) -> int:
    """Rematch every stored digest (or ``digest``) against ``db`` (build id ``build``, default the
    file's own); publish each image's events as soon as they are stored; the number published.

    Up to ``concurrency`` images are rematched at once (each image's events stay in order)."""
    evaluation_id = f"rematch:{build or advisory_build(db)}"
    kept = inventories or Inventories(store)
    slots = asyncio.Semaphore(max(1, concurrency))

    async def one(scan: StoredScan) -> int:
        async with slots:
            return await _rematch_image(
                store, rulesets, db, scan, kept, publish=publish, evaluation_id=evaluation_id, today=today
            )

    counts = await asyncio.gather(*(one(scan) for scan in await latest_scans(store.pool, digest)))
    return sum(counts)


async def _rematch_image(
    store: Store,
    rulesets: Rulesets,
    db: VulnDB,
    scan: StoredScan,
    inventories: Inventories,
    *,
    publish: Publish,
    evaluation_id: str,
    today: dt.date | None,
) -> int:
    image = _IMAGE.decode(scan.image_json)
    try:
        packages = _PACKAGES.decode(await inventories.packages_json(scan))
    except MissingInventory as exc:
        log.error("rematch: %s; %s left as it was (a rescan stores a new inventory)", exc, scan.digest)
        return 0
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
        gaps=scan_gaps(result.notes, image.distro, day, gaps=result.gaps),
        categories=REMATCH_CATEGORIES,
    )
    if events:
        await publish(events)
    log.debug("rematch %s: %d events", scan.digest, len(events))
    return len(events)


async def rematch_if_new(
    store: Store,
    rulesets: Rulesets,
    db: VulnDB,
    build: str,
    *,
    publish: Publish,
    inventories: Inventories | None = None,
) -> int | None:
    """Rematch against ``db`` (build id ``build``) unless that build was rematched already; None when
    nothing was done (same build, or another replica holds the rematch lock)."""
    lifecycle = Lifecycle(store.pool)
    if await lifecycle.get_state(ADVISORY_BUILD_KEY) == build:
        return None
    async with store.exclusive(REMATCH_LOCK) as mine:
        if not mine or await lifecycle.get_state(ADVISORY_BUILD_KEY) == build:
            return None
        log.info("rematch: advisory database %s is new; rematching stored inventories", build)
        count = await rematch(store, rulesets, db, publish=publish, inventories=inventories, build=build)
        await lifecycle.set_state(ADVISORY_BUILD_KEY, build)
        log.info("rematch: %s done, %d finding events published", build, count)
        return count


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
        return await rematch_if_new(
            store, rulesets, db, advisory_build(db), publish=publish, inventories=inventories
        )
    finally:
        db.close()


async def rematch_current(
    store: Store,
    rulesets: Rulesets,
    holder: BuildHolder,
    *,
    publish: Publish,
    inventories: Inventories | None = None,
) -> int | None:
    """Rematch against the holder's current build when it was not rematched yet (see ``rematch_if_new``)."""
    with holder.leased() as current:
        if current is None:
            return None
        db, build = current
        return await rematch_if_new(store, rulesets, db, build, publish=publish, inventories=inventories)
