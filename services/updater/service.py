"""``assay service updater``: refresh the advisory database on an interval and announce each build.

Every replica runs the same loop, but a refresh happens only under the PostgreSQL advisory lock
``assay-updater`` and only when the newest build was last refreshed an interval ago or more, so
one replica at a time is the active one and a second replica (or a restarted pod) does not
refresh again early. A build is announced with an ``AdvisoryBuildPublished`` on
``assay.advisories.v1`` and then marked published; one recorded but never announced (a crash in
between) is announced on the next pass. A source that cannot be read is logged and retried
after ``RETRY_S`` (or the interval, if shorter); the stored builds stay as they were. The content
bundles (threat feeds, YARA rules, hash lists: ``bundles.py``) are refreshed in the same pass,
before the database, and announced on the same topic.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from schemas.topics import Topics
from services.common.bus.interface import Bus
from services.common.errors import VulnDBError
from services.common.objectstore import ObjectStore
from services.common.runner import publish_event
from services.common.store.builds import AdvisoryBuild, rfc3339
from services.common.store.postgres import Store
from services.updater.build import UpdaterPlan, refresh
from services.updater.bundles import BundlePlan, publish_bundles
from services.vulndb.builds import wait_for_any

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["RETRY_S", "UPDATER_LOCK", "announce", "run_updater", "update_once"]

log = logging.getLogger(__name__)

UPDATER_LOCK = "assay-updater"  # advisory lock: one active updater across replicas
RETRY_S = 300.0  # after a failed refresh, or while another replica holds the lock


async def announce(bus: Bus, store: Store, build: AdvisoryBuild) -> None:
    """Publish ``build``'s announcement, then record that it was published."""
    now = await store.builds.now()
    event = build.announcement(published_at=rfc3339(now))
    await publish_event(bus, Topics.ADVISORIES, build.build_id, event)
    await store.builds.mark_published(build.build_id)
    log.info("updater: announced build %s on %s", build.build_id, Topics.ADVISORIES)


async def update_once(
    plan: UpdaterPlan, bus: Bus, store: Store, objects: ObjectStore, bundles: BundlePlan | None = None
) -> float:
    """One pass: refresh when due (as the lock holder) and announce; the seconds until the next pass.

    ``bundles``: the content bundles (threat feeds, YARA rules, hash lists) refreshed in the same pass.
    """
    retry = min(RETRY_S, plan.interval_s)
    async with store.exclusive(UPDATER_LOCK) as active:
        if not active:
            log.debug("updater: another replica is refreshing")
            return retry
        latest = await store.builds.latest()
        if latest is not None:
            age = (await store.builds.now() - latest.checked_at).total_seconds()
            if age < plan.interval_s:
                if not latest.published:
                    await announce(bus, store, latest)
                return plan.interval_s - age
        if bundles is not None:
            await publish_bundles(bundles, bus, objects)
        try:
            refreshed = await refresh(plan, store.builds, objects)
        except VulnDBError as exc:
            log.error("updater: refresh failed: %s; retrying in %.0f s", exc, retry)
            return retry
        if not refreshed.build.published:
            await announce(bus, store, refreshed.build)
        return plan.interval_s


async def run_updater(
    settings: Settings,
    bus: Bus,
    store: Store,
    objects: ObjectStore,
    stop: asyncio.Event,
    *,
    once: bool = False,
) -> None:
    """Refresh and announce until ``stop`` (``once``: a single pass). ``objects`` holds the builds."""
    plan = UpdaterPlan.from_settings(settings)
    bundles = BundlePlan.from_settings(settings)
    log.info("updater: sources %s, every %.0f s", ", ".join(plan.sources()), plan.interval_s)
    for kind, where in bundles.sources.items():
        log.info("updater: %s bundle from %s", kind, ", ".join(where))
    while not stop.is_set():
        wait_s = await update_once(plan, bus, store, objects, bundles)
        if once:
            return
        await wait_for_any(stop, None, timeout_s=max(1.0, wait_s))
