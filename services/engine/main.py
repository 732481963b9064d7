"""``assay service engine``: the entry the service registry (services/cli/service.py) calls.

Builds the engine's dependencies once (content analyzers following the published content bundles,
the followed advisory build, the registry credential chain), records the analysis version, and
runs one consumer-group member per concurrent scan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from schemas.events import Event
from schemas.topics import Topics
from services.common.lifespan import Need, Needs, Resources
from services.common.runner import Outgoing, run_service
from services.common.store.requests import Requests
from services.engine.catalogers.registry import select
from services.engine.content.bundles import open_bundles
from services.engine.worker import FATAL_ERRORS_ENGINE, EngineDeps, make_engine_handler
from services.oci.credentials.build import credential_chain, registry_client_factory
from services.oci.credentials.kube import PullSecretResolver
from services.oci.ecr import EcrCredentials
from services.vulndb.builds import open_followed

if TYPE_CHECKING:
    from services.settings import Settings

# with PostgreSQL at hand the engine marks each image "scanning" as it starts on it, reads the
# recorded advisory builds and records its analysis version
NEEDS = Needs(bus=Need.YES, store=Need.IF_SET)


def group(resources: Resources[Settings]) -> str:
    """One consumer group per site: every site's engines see every request (``engine.site``)."""
    site = resources.settings.engine.site
    return f"{resources.group}-{site}" if site else resources.group


async def run(resources: Resources[Settings], stop: asyncio.Event) -> None:
    """Scan requested images until ``stop``, ``engine.concurrency`` at a time."""
    settings, bus, store = resources.settings, resources.need_bus(), resources.store
    # the newest advisory build (the updater's, or the local file), switched without restart
    follower = await open_followed(
        settings, store.builds.latest_announcement if store else None, resources.aws, "engine"
    )
    # content analyzers on the updater's feeds, YARA rules and hash lists; their versions recorded
    record = store.builds.record_analysis_version if store is not None else None
    bundles = await open_bundles(settings, resources.aws, on_switch=record)
    ecr = EcrCredentials(resources.aws, margin_s=settings.aws.ecr_token_margin_s)
    chain = credential_chain(settings.credentials, settings.registries, ecr=ecr)
    deps = EngineDeps(
        settings=settings,
        catalogers=select(),
        vulndb=None,
        content=bundles.current().content,
        on_start=Requests(store.pool).mark_scanning if store else None,
        registry_client_factory=registry_client_factory(chain, settings.aws.registry_host_overrides),
        advisories=follower.holder,
        analysis_version=bundles.current().version,
        isolate=settings.scan.isolation,  # a child process per image (engine/isolate.py)
        bundles=bundles,
        # the pods' pull secrets, by the references inventory recorded (needs RBAC get on secrets)
        pull_secrets=PullSecretResolver(store.pool, settings.clusters) if store else None,
    )
    scan = make_engine_handler(deps)
    # No scan without advisory data: on a new install the updater is still building its first set.
    # The members join the group at once (so the group settles before any scan) and hold their
    # first request until the engine holds a build; waiting before joining instead made late
    # joiners rebalance the group under a running scan, which then ran twice.
    ready = asyncio.ensure_future(follower.first(stop))

    async def handler(event: Event) -> Sequence[Outgoing]:
        await asyncio.shield(ready)
        return await scan(event)

    members = [
        run_service(
            bus,
            service="engine",
            group=group(resources),
            topics=[Topics.SCAN_REQUESTS],
            handler=handler,
            stop=stop,
            max_records=1,
            fatal_errors=FATAL_ERRORS_ENGINE,  # a broken advisory database stops the worker
        )
        for _ in range(settings.engine.concurrency)  # Kafka spreads partitions across the members
    ]

    async def follow() -> None:  # newer builds, once the first is held (one looker at a time)
        await asyncio.shield(ready)
        await follower.run(stop, interval_s=settings.rematch.interval_s)

    try:
        await asyncio.gather(*members, follow(), bundles.run(stop, interval_s=settings.rematch.interval_s))
    finally:
        ready.cancel()
        follower.holder.close()
