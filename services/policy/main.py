"""``assay service policy``: the entry the service registry (services/cli/service.py) calls."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from services.common.lifespan import Needs, Resources
from services.policy.app import run_policy

if TYPE_CHECKING:
    from services.settings import Settings

NEEDS = Needs()  # the bus and PostgreSQL


async def run(resources: Resources[Settings], stop: asyncio.Event) -> None:
    """Evaluate scans and rematch on new advisory builds until ``stop`` (inventories in the object store)."""
    bus, store = resources.need_bus(), resources.need_store()
    metrics = resources.metrics
    await run_policy(
        resources.settings,
        bus,
        store,
        stop,
        group=resources.group,
        objects=resources.objects,
        observe_rematch=None if metrics is None else metrics.rematch_seconds.labels(metrics.service).observe,
    )
