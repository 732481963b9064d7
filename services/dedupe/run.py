"""The dedupe service process: the batch consumer of ``assay.inventory.v1`` plus the sweep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from schemas.topics import Topics
from services.common.bus.interface import Bus
from services.common.runner import run_service
from services.common.store.postgres import Store
from services.dedupe.service import Dedupe, DedupeConfig
from services.dedupe.store.claims import Claims
from services.dedupe.sweep import run_sweep
from services.dedupe.version import CurrentVersion

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["BATCH_RECORDS", "dedupe_config", "run_dedupe"]

BATCH_RECORDS = 500  # records claimed per statement (one consumer fetch)


def dedupe_config(settings: Settings) -> DedupeConfig:
    """The size limit dedupe decides with; the analysis version is the engines' (``version.py``)."""
    return DedupeConfig(max_image_bytes=max(0, settings.max_image_size_mb) << 20)


async def run_dedupe(
    settings: Settings,
    bus: Bus,
    store: Store,
    *,
    group: str,
    stop: asyncio.Event,
    count_hits: Callable[[int], None] | None = None,
) -> None:
    """Consume inventory in batches and sweep stuck requests until ``stop``; the first failure stops both.

    ``count_hits(n)``: called with the sightings of each batch that needed no scan (metrics)."""
    dedupe = Dedupe(
        store, dedupe_config(settings), CurrentVersion(store.builds.analysis_version), count_hits=count_hits
    )
    consumer = run_service(
        bus,
        service="dedupe",
        group=group,
        topics=[Topics.INVENTORY],
        batch_handler=dedupe.handle_batch,
        on_published=dedupe.published,
        stop=stop,
        max_records=BATCH_RECORDS,
    )
    sweep = run_sweep(
        bus,
        Claims(store.pool),
        stop,
        interval_s=settings.dedupe.sweep_interval_s,
        timeout_s=settings.dedupe.scan_timeout_s,
        max_attempts=settings.dedupe.max_scan_attempts,
    )
    tasks = [asyncio.create_task(consumer), asyncio.create_task(sweep)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # re-raise a failure
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
