"""Sources that look on an interval (the registry crawl, ECR, ECS) as ``InventorySource``s.

A ``Poller`` answers one ``Pass`` per ``poll``; ``PollingSource`` calls it every ``interval_s``,
publishes what changed since the previous pass (``deltas``) and, every ``full_interval_s``, every
sighting again. ``once`` makes one pass and returns (``assay service inventory --once``). With a
``CrawlState`` (PostgreSQL) the previous pass survives a restart: it is loaded before the first pass
and stored after each, so what was deleted while inventory was down is removed on its first pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Protocol

from services.common.clock import utcnow
from services.common.errors import StoreError
from services.common.inventory import Publisher
from services.inventory.crawlstate import CrawlState
from services.inventory.deltas import Deltas, Pass

__all__ = ["Poller", "PollingSource"]

log = logging.getLogger(__name__)


class Poller(Protocol):
    """One look at a source."""

    @property
    def name(self) -> str:
        """For logs."""
        ...

    async def poll(self) -> Pass:
        """Everything seen now, and where the look was complete."""
        ...


class PollingSource:
    """``InventorySource`` over a ``Poller``: a pass per interval, deltas between full passes."""

    def __init__(
        self,
        poller: Poller,
        *,
        interval_s: float,
        full_interval_s: float,
        once: bool = False,
        state: CrawlState | None = None,
    ) -> None:
        self.poller = poller
        self.name = poller.name
        self._interval_s = interval_s
        self._full_interval_s = full_interval_s
        self._once = once
        self._deltas = Deltas()
        self._last_full = -float("inf")
        self._state = state
        self._restored = state is None

    async def pass_once(self, publish: Publisher) -> int:
        """One pass: publish its changes; the number of events published."""
        if not await self._restore():
            return 0
        found = await self.poller.poll()
        full = time.monotonic() - self._last_full >= self._full_interval_s
        events = self._deltas.changes(found, full=full, now=utcnow())
        if full:
            self._last_full = time.monotonic()
        for event in events:
            await publish.publish(event)
        if self._state is not None:  # after publishing: a crash in between publishes it again
            try:
                await self._state.save(self.name, self._deltas.known(), found.events)
            except StoreError as exc:  # the next pass stores again; the crawl itself goes on
                log.warning("inventory: %s: cannot store the pass: %s", self.name, exc)
        log.info(
            "inventory: %s: %d sightings, published %d change(s)%s",
            self.name,
            len(found.events),
            len(events),
            " (full pass)" if full else "",
        )
        return len(events)

    async def _restore(self) -> bool:
        """Load the stored previous pass once; False (skip this pass) while the store cannot be read,
        since a pass diffed against nothing would forget what was deleted meanwhile."""
        if self._restored or self._state is None:
            return True
        try:
            self._deltas.restore(await self._state.load(self.name))
        except StoreError as exc:
            log.warning("inventory: %s: cannot read the last pass, crawl postponed: %s", self.name, exc)
            return False
        self._restored = True
        return True

    async def run(self, publish: Publisher, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.pass_once(publish)
            if self._once:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval_s)
