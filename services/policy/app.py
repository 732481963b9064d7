"""``assay service policy``: the detections consumer and the advisory-database watcher, side by side."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from schemas.topics import Topics
from services.common.bus.interface import Bus
from services.common.config import Settings
from services.common.objectstore import ObjectStore
from services.common.runner import Outgoing, publish_event, run_service
from services.common.store.postgres import Store
from services.policy.catalog import load_rulesets
from services.policy.inventories import Inventories
from services.policy.rematch import Publish, watch_advisories
from services.policy.service import make_policy_handler

__all__ = ["bus_publisher", "run_policy"]


def bus_publisher(bus: Bus) -> Publish:
    """Publish handler-style outputs outside the runner (rematch), each awaited in order."""

    async def publish(events: Sequence[Outgoing]) -> None:
        for o in events:
            await publish_event(bus, o.topic, o.key, o.event)

    return publish


async def run_policy(
    settings: Settings,
    bus: Bus,
    store: Store,
    stop: asyncio.Event,
    *,
    group: str,
    objects: ObjectStore | None = None,
) -> None:
    """Consume ``assay.detections.v1`` and rematch on new advisory builds until ``stop``.

    Rulesets are loaded once here (a bad file stops the service with its error, before any
    record is consumed).
    """
    rulesets = load_rulesets(settings.rulesets_dir)
    inventories = Inventories(store, objects)  # in the object store (S3) when one is configured
    handler = make_policy_handler(store, rulesets, inventories)
    await asyncio.gather(
        run_service(
            bus, service="policy", group=group, topics=[Topics.DETECTIONS], handler=handler, stop=stop
        ),
        watch_advisories(
            store,
            rulesets,
            settings.effective_db_path,
            publish=bus_publisher(bus),
            stop=stop,
            interval_s=settings.rematch_interval_s,
            inventories=inventories,
        ),
    )
