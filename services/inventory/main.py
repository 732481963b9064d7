"""``assay service inventory``: the entry the service registry (services/cli/service.py) calls."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from services.common.lifespan import Need, Needs, Resources
from services.inventory.service import run_inventory

if TYPE_CHECKING:
    from services.settings import Settings

NEEDS = Needs(bus=Need.YES, store=Need.NO)  # it opens its own small pool for stored environments


async def run(resources: Resources[Settings], stop: asyncio.Event) -> None:
    """Every inventory source, publishing to the bus, until ``stop`` (burst: one pass)."""
    await run_inventory(
        resources.settings, resources.need_bus(), stop, once=resources.burst, aws=resources.aws
    )
