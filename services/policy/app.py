"""``assay service policy``: the detections consumer and the advisory-data follower, side by side."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from schemas.topics import Topics
from services.common.bus.interface import Bus
from services.common.objectstore import DirectoryObjectStore, ObjectStore
from services.common.runner import Outgoing, publish_event, run_service
from services.common.store.postgres import Store
from services.policy.advisories import AdvisoryFollower, announcement_handler
from services.policy.catalog import load_rulesets
from services.policy.inventories import Inventories
from services.policy.rematch import Publish
from services.policy.service import make_policy_handler
from services.vulndb.builds import BuildFollower, BuildHolder

if TYPE_CHECKING:
    from services.settings import Settings

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
    advisories: ObjectStore | None = None,
    observe_rematch: Callable[[float], None] | None = None,
) -> None:
    """Consume ``assay.detections.v1``, follow advisory builds and rematch on each, until ``stop``.

    Rulesets are loaded once here (a bad file stops the service with its error, before any
    record is consumed). Announcements on ``assay.advisories.v1`` are read in a group of their
    own (``<group>-advisories``) and only wake the follower, which reads the newest build from
    PostgreSQL and ``advisories`` (the object store holding the builds; default ``objects``).
    """
    # the updater's builds: the configured object store, else <data_dir>/objects (one machine)
    advisories = advisories or objects or DirectoryObjectStore(settings.effective_data_dir / "objects")
    rulesets = load_rulesets(settings.rulesets.dir)
    inventories = Inventories(store, objects)  # in the object store (S3) when one is configured
    handler = make_policy_handler(store, rulesets, inventories)
    holder = BuildHolder(settings.effective_data_dir / "advisory-builds" / "policy", advisories)
    follower = AdvisoryFollower(
        store=store,
        rulesets=rulesets,
        builds=BuildFollower(holder, store.builds.latest_announcement, settings.effective_db_path),
        publish=bus_publisher(bus),
        interval_s=settings.rematch.interval_s,
        updater_interval_s=settings.updater.interval_s,
        inventories=inventories,
        observe_rematch=observe_rematch,
    )
    wake = asyncio.Event()
    try:
        await asyncio.gather(
            run_service(
                bus, service="policy", group=group, topics=[Topics.DETECTIONS], handler=handler, stop=stop
            ),
            run_service(
                bus,
                service="policy",
                group=f"{group}-advisories",
                topics=[Topics.ADVISORIES],
                handler=announcement_handler(wake),
                stop=stop,
            ),
            follower.run(stop, wake),
        )
    finally:
        holder.close()
