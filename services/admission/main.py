"""``assay service admission``: the entry the service registry (services/cli/service.py) calls."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from schemas.events import ImageDiscovered
from schemas.topics import Topics
from services.admission.service import run_admission
from services.common.lifespan import Needs, Resources
from services.common.runner import publish_event

if TYPE_CHECKING:
    from services.settings import Settings

NEEDS = Needs()  # the bus (scan requests for unknown images) and PostgreSQL (verdicts)


async def run(resources: Resources[Settings], stop: asyncio.Event) -> None:
    """Serve the validating webhook until ``stop``; unknown images are sighted on the inventory topic."""
    bus = resources.need_bus()

    async def request_scan(event: ImageDiscovered) -> None:
        await publish_event(bus, Topics.INVENTORY, event.digest, event)

    await run_admission(resources.settings, resources.need_store(), request_scan, stop)
