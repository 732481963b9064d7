"""Serving the API on ``settings.api.listen`` until told to stop."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from services.api.app import make_app
from services.api.auth.access import Access
from services.api.environments import agent_defaults
from services.api.store import Reads
from services.common.bus.interface import Bus
from services.common.metered_bus import MeteredBus
from services.common.metrics import Metrics, serve_metrics
from services.common.serve import parse_listen, serve_app

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["parse_listen", "serve_api"]

log = logging.getLogger(__name__)


async def serve_api(
    settings: Settings,
    pool: Any,
    stop: asyncio.Event,
    *,
    bus: Bus | None = None,
    metrics: Metrics | None = None,
) -> None:
    """Serve the API (OpenAPI at ``/openapi.json``) on ``settings.api.listen`` until ``stop`` is set.

    ``pool``: the store's asyncpg pool; ``bus``: where requested rescans are published. Without
    ``metrics`` from the lifespan, the API makes its registry and serves it on
    ``settings.metrics.listen`` itself.
    """
    if metrics is None:
        metrics = Metrics("api")
        bus = MeteredBus(bus, metrics) if bus is not None else None
        exporter = serve_metrics(metrics, settings.metrics.listen, stop)
    else:
        exporter = asyncio.sleep(0)  # the lifespan serves the process's metrics
    access = Access(settings.auth, pool)
    app = make_app(
        Reads(pool),
        access,
        bus=bus,
        metrics=metrics,
        rulesets_dir=settings.rulesets.dir,
        agent=agent_defaults(settings),
    )
    await asyncio.gather(
        serve_app(app, settings.api.listen, stop, setting="ASSAY_API_LISTEN", log=log), exporter
    )
