"""Dedupe's sweep: scans requested or scanning for longer than the scan timeout are requested again.

A request can be lost after its claim was confirmed (an engine killed mid-scan whose partition
is never consumed again, a topic truncated by retention) and a digest seen once is not sighted
again to repair it. Every ``interval_s`` one replica's sweep takes the stuck rows (``SKIP
LOCKED``: replicas never take the same one) and re-publishes their requests with
``reason=retry`` under the same scan id; after ``max_attempts`` requests the image is marked
``failed``. The engine and the policy are idempotent on the scan id, so a slow scan that was
re-requested is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.common.bus.interface import Bus
from services.common.scan_requests import publish_requests
from services.dedupe.store.claims import Claims

__all__ = ["publish_requests", "run_sweep", "sweep_once"]  # publish_requests: moved, re-exported

log = logging.getLogger(__name__)


async def sweep_once(bus: Bus, claims: Claims, *, timeout_s: float, max_attempts: int) -> int:
    """One sweep; the number of scans requested again."""
    claimed = await claims.sweep(timeout_s=timeout_s, max_attempts=max_attempts)
    if claimed:
        await publish_requests(bus, claims, claimed)
        log.info("dedupe: re-requested %d scans stuck for more than %.0f s", len(claimed), timeout_s)
    return len(claimed)


async def run_sweep(
    bus: Bus, claims: Claims, stop: asyncio.Event, *, interval_s: float, timeout_s: float, max_attempts: int
) -> None:
    """Sweep every ``interval_s`` until ``stop`` is set (errors propagate: the service stops)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        if stop.is_set():
            return
        await sweep_once(bus, claims, timeout_s=timeout_s, max_attempts=max_attempts)
