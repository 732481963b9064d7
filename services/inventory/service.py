"""``assay service inventory``: every configured ``InventorySource`` in one process.

The registry crawl, ECR and ECS are ``PollingSource``s (a pass per ``crawl_interval_s``, deltas
between full passes); each configured cluster is a ``ClusterSource`` (list, then watch); registry
notifications a ``WebhookSource``; with PostgreSQL configured, the clusters stored by
``assay environments add`` are ``StoredEnvironments``. All publish through one ``BusPublisher``.
With ``once`` the polling sources make one pass, then the watchers and the endpoints stop too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from services.common.aws import AwsClients
from services.common.bus.interface import Bus
from services.common.inventory import BusPublisher, InventorySource, Publisher
from services.common.store.postgres import Store
from services.inventory.aws import EcrPoller, EcsPoller
from services.inventory.crawler import RegistryCrawl
from services.inventory.crawlstate import CrawlState
from services.inventory.environments import StoredEnvironments
from services.inventory.kubernetes import ClusterSource
from services.inventory.polling import Poller, PollingSource
from services.inventory.pullrefs import PullSecretRefs, RecordingPublisher
from services.inventory.store import Environments
from services.inventory.webhooks.receiver import WebhookSource
from services.oci.credentials.build import clients_for

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["run_inventory", "run_sources"]

log = logging.getLogger(__name__)


async def run_sources(
    polling: Sequence[InventorySource],
    watching: Sequence[InventorySource],
    publish: Publisher,
    stop: asyncio.Event,
) -> None:
    """Run every source until ``stop`` is set; once the ``polling`` ones return by themselves (one
    pass), stop the ``watching`` ones. A source that fails is logged; the others go on."""
    watchers_stop = asyncio.Event()

    async def guarded(source: InventorySource, until: asyncio.Event) -> None:
        try:
            await source.run(publish, until)
        except Exception:
            log.exception("inventory: %s stopped", source.name)

    async def relay() -> None:
        await stop.wait()
        watchers_stop.set()

    relay_task = asyncio.create_task(relay())
    watch_tasks = [asyncio.create_task(guarded(s, watchers_stop)) for s in watching]
    try:
        await asyncio.gather(*(guarded(s, stop) for s in polling))
        if polling:  # one pass made (``once``), or stopped: the watchers follow
            watchers_stop.set()
        await asyncio.gather(*watch_tasks)
    finally:
        relay_task.cancel()
        for task in watch_tasks:
            task.cancel()
        await asyncio.gather(relay_task, *watch_tasks, return_exceptions=True)


async def run_inventory(
    settings: Settings, bus: Bus, stop: asyncio.Event, *, once: bool, aws: AwsClients | None = None
) -> None:
    """Crawl the registries (and ECR/ECS when configured), watch the clusters, serve notifications.

    With PostgreSQL configured, each crawl's last pass is stored (a restart still unlinks what was
    deleted meanwhile), the pods' pull-secret references are recorded for the engines, and the
    clusters added with ``assay environments add`` are watched without a restart.
    """
    make_client = clients_for(settings, aws)  # the credential chain: static, config.json, ECR, GAR, ACR
    publisher: Publisher = BusPublisher(bus, service="inventory")
    async with make_client(settings.registries) as client, contextlib.AsyncExitStack() as resources:
        state: CrawlState | None = None
        stored: list[InventorySource] = []
        if settings.pg.dsn:
            store = await Store.connect(settings.pg.dsn, max_size=2)
            resources.push_async_callback(store.close)
            state = CrawlState(store.pool)
            publisher = RecordingPublisher(publisher, PullSecretRefs(store.pool))
            stored.append(
                StoredEnvironments(
                    Environments(store.pool),
                    poll_s=settings.environments.poll_s,
                    configured={c.name for c in settings.clusters},
                )
            )
        pollers: list[Poller] = [RegistryCrawl(client, settings.registries)]
        if aws is not None and settings.aws.ecr:
            pollers.append(EcrPoller(aws, settings.aws, client))
        if aws is not None and settings.aws.ecs:
            pollers.append(EcsPoller(aws, settings.aws, client))
        interval = settings.crawl.interval_s
        polling = [
            PollingSource(
                p,
                interval_s=interval,
                full_interval_s=interval * settings.crawl.full_every,
                once=once,
                state=state,
            )
            for p in pollers
        ]
        watching: list[InventorySource] = [ClusterSource(c) for c in settings.clusters]
        if settings.webhooks.listen:
            watching.append(WebhookSource(settings))
        await run_sources(polling, [*watching, *stored], publisher, stop)
