"""``assay service dedupe``: the entry the service registry (services/cli/service.py) calls."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from services.common.lifespan import Needs, Resources
from services.dedupe.run import run_dedupe

if TYPE_CHECKING:
    from services.settings import Settings

NEEDS = Needs()  # the bus and PostgreSQL


async def run(resources: Resources[Settings], stop: asyncio.Event) -> None:
    """Claim sightings in batches, confirm requests and sweep stuck scans until ``stop``."""
    bus, store = resources.need_bus(), resources.need_store()
    metrics = resources.metrics
    count_hits = None if metrics is None else metrics.dedupe_hits.labels(metrics.service).inc
    await run_dedupe(resources.settings, bus, store, group=resources.group, stop=stop, count_hits=count_hits)
