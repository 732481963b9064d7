"""``assay service updater``: the entry the service registry (services/cli/service.py) calls."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from services.common.lifespan import Needs, Resources
from services.updater.service import run_updater
from services.vulndb.builds import advisory_objects

if TYPE_CHECKING:
    from services.settings import Settings

NEEDS = Needs()  # the bus and PostgreSQL


async def run(resources: Resources[Settings], stop: asyncio.Event) -> None:
    """Refresh, store and announce advisory builds until ``stop`` (burst: one pass)."""
    objects = await advisory_objects(resources.settings, resources.aws)
    bus, store = resources.need_bus(), resources.need_store()
    await run_updater(resources.settings, bus, store, objects, stop, once=resources.burst)
