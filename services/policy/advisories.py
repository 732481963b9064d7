"""The policy service's side of advisory data: follow the newest build, rematch, watch its age.

One loop, woken by an ``AdvisoryBuildPublished`` on ``assay.advisories.v1`` or every
``rematch_interval_s``: switch the holder to the newest build recorded in PostgreSQL (or, where no
updater runs, to the local database file whenever ``assay db update`` replaced it:
``services/vulndb/builds.py``), rematch the stored inventories when that build was not rematched
yet (``rematch.py``), and record or resolve the stale-data finding (``freshness.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from schemas.events import AdvisoryBuildPublished, Event
from services.common.runner import Handler, Outgoing
from services.common.store.postgres import Store
from services.policy.catalog import Rulesets
from services.policy.freshness import check_freshness
from services.policy.inventories import Inventories
from services.policy.rematch import Publish, rematch_current
from services.vulndb.builds import BuildFollower, wait_for_any

__all__ = ["AdvisoryFollower", "announcement_handler"]

log = logging.getLogger(__name__)


def announcement_handler(wake: asyncio.Event) -> Handler:
    """The handler for ``assay.advisories.v1``: a new build wakes the follower at once."""

    async def handle(event: Event) -> Sequence[Outgoing]:
        if isinstance(event, AdvisoryBuildPublished):
            log.info("policy: advisory build %s announced", event.build_id)
            wake.set()
        return []

    return handle


@dataclass
class AdvisoryFollower:
    """What the loop works with; ``run`` until ``stop``."""

    store: Store
    rulesets: Rulesets
    builds: BuildFollower
    publish: Publish
    interval_s: float  # how often to look without an announcement
    updater_interval_s: float  # the updater's interval: data older than two is stale
    inventories: Inventories | None = None
    observe_rematch: Callable[[float], None] | None = None  # seconds a rematch took (metrics)

    async def step(self) -> int | None:
        """One look: switch, rematch, check the age; the finding events rematch published (None: none)."""
        await self.builds.step()
        started = time.monotonic()
        count = await rematch_current(
            self.store, self.rulesets, self.builds.holder, publish=self.publish, inventories=self.inventories
        )
        if count is not None and self.observe_rematch is not None:
            self.observe_rematch(time.monotonic() - started)
        stale = await check_freshness(self.store, self.updater_interval_s)
        if stale:
            await self.publish(stale)
        return count

    async def run(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        """Look at start, then on every announcement (``wake``) or ``interval_s``, until ``stop``."""
        while not stop.is_set():
            wake.clear()
            await self.step()
            await wait_for_any(stop, wake, timeout_s=self.interval_s)
