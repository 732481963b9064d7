"""``assay service api``: the entry the service registry (services/cli/service.py) calls."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from services.api.server import serve_api
from services.common.lifespan import Need, Needs, Resources

if TYPE_CHECKING:
    from services.settings import Settings

NEEDS = Needs(bus=Need.IF_SET, store=Need.YES)  # with a bus it publishes requested rescans


async def run(resources: Resources[Settings], stop: asyncio.Event) -> None:
    """Serve the read API (and the console) until ``stop``."""
    await serve_api(
        resources.settings, resources.need_store().pool, stop, bus=resources.bus, metrics=resources.metrics
    )
