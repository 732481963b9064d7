"""``assay service node``: the entry the service registry (services/cli/service.py) calls."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from services.common.inventory import BusPublisher
from services.common.lifespan import Need, Needs, Resources
from services.node.service import run_node

if TYPE_CHECKING:
    from services.settings import Settings

NEEDS = Needs(bus=Need.YES, store=Need.NO)


async def run(resources: Resources[Settings], stop: asyncio.Event) -> None:
    """Serve this node's images and report them to inventory until ``stop``."""
    await run_node(resources.settings, BusPublisher(resources.need_bus(), service="node"), stop)
