"""``assay service harbor``: the entry the service registry (services/cli/service.py) calls."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from services.common.lifespan import Need, Needs, Resources
from services.harbor.service import run as run_adapter

if TYPE_CHECKING:
    from services.settings import Settings

NEEDS = Needs(bus=Need.NO, store=Need.NO)  # scans in process


async def run(resources: Resources[Settings], stop: asyncio.Event) -> None:
    """Serve Harbor's scanner API until ``stop``."""
    await run_adapter(resources.settings, stop)
