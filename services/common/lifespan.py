"""One lifespan for every service process: open what it needs from settings, hand it down, close it.

Starlette/arq style: ``lifespan(settings, service, needs)`` opens the AWS clients, the object
store, the bus (always a ``KafkaBus`` with the same options: the claim check when an object store
is configured, the checked security settings, the service's own topics ensured) and the
PostgreSQL store, and yields one frozen ``Resources``; each service's ``run(resources, stop)`` takes
it from there. The advisory database is a service's own concern
(``services.vulndb.builds.open_followed``): only the engine follows builds this way, policy follows
them by announcement.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from schemas.topics import ALL_TOPICS, Topics
from services.common.config import (
    AwsConfig,
    KafkaSettings,
    MetricsConfig,
    ObjectStoreSettings,
    PgSettings,
    kafka_security,
)
from services.common.errors import ConfigError

if TYPE_CHECKING:  # the clients are imported when a lifespan opens them: `assay scan` never loads them
    from services.common.aws import AwsClients
    from services.common.bus.interface import Bus
    from services.common.bus.kafka import KafkaBus
    from services.common.metrics import Metrics
    from services.common.objectstore import ObjectStore
    from services.common.store.postgres import Store

__all__ = [
    "SERVICE_TOPICS",
    "Need",
    "Needs",
    "Resources",
    "SharedSettings",
    "lifespan",
    "open_bus",
    "open_store",
    "topics_of",
]


class SharedSettings(Protocol):
    """The shared sections a lifespan reads (``services.settings.Settings`` has them all)."""

    @property
    def kafka(self) -> KafkaSettings: ...
    @property
    def pg(self) -> PgSettings: ...
    @property
    def aws(self) -> AwsConfig: ...
    @property
    def object_store(self) -> ObjectStoreSettings: ...
    @property
    def metrics(self) -> MetricsConfig: ...


S = TypeVar("S", bound=SharedSettings)


class Need(Enum):
    """Whether a service needs a resource: always, when it is configured, or never."""

    NO = "no"
    IF_SET = "if-set"
    YES = "yes"


@dataclass(frozen=True)
class Needs:
    """What one service's lifespan opens."""

    bus: Need = Need.YES
    store: Need = Need.YES


@dataclass(frozen=True, kw_only=True)
class Resources(Generic[S]):
    """What a service runs with: its settings and what the lifespan opened for it."""

    settings: S
    service: str  # "engine", "dedupe", ...
    group: str  # its consumer group: <kafka.consumer_group_prefix>-<service>
    aws: AwsClients
    objects: ObjectStore | None  # the shared object store, when configured
    bus: Bus | None = None
    store: Store | None = None
    burst: bool = False  # one pass and return (``--once``: inventory, updater)
    metrics: Metrics | None = None  # this process's registry, served on metrics.listen

    def need_bus(self) -> Bus:
        if self.bus is None:
            raise ConfigError(f"{self.service} needs the bus, and its lifespan opened none")
        return self.bus

    def need_store(self) -> Store:
        if self.store is None:
            raise ConfigError(f"{self.service} needs PostgreSQL, and its lifespan opened none")
        return self.store


def _require(value: str, setting: str) -> str:
    if not value:
        raise ConfigError(f"{setting} is not set (or run everything with `assay up`)")
    return value


# The topics each service reads or writes (docs/operations.md, "Who may write to which topic"): what
# its start ensures, so that a principal allowed only those (an agent's inventory and node daemon)
# asks for nothing else. Any other name (`assay up`, rescan, rematch) ensures every topic.
SERVICE_TOPICS: Mapping[str, tuple[str, ...]] = {
    "inventory": (Topics.INVENTORY,),
    "node": (Topics.INVENTORY,),
    "admission": (Topics.INVENTORY,),
    "api": (Topics.INVENTORY, Topics.SCAN_REQUESTS),
    "dedupe": (Topics.INVENTORY, Topics.SCAN_REQUESTS, Topics.DLQ),
    "engine": (Topics.SCAN_REQUESTS, Topics.DETECTIONS, Topics.ADVISORIES, Topics.DLQ),
    "policy": (Topics.DETECTIONS, Topics.FINDINGS, Topics.ALERTS, Topics.ADVISORIES, Topics.DLQ),
    "updater": (Topics.ADVISORIES, Topics.DLQ),
}


def topics_of(service: str) -> tuple[str, ...]:
    """The topics ``service`` reads or writes; every topic for a name not in ``SERVICE_TOPICS``."""
    return SERVICE_TOPICS.get(service, ALL_TOPICS)


@contextlib.asynccontextmanager
async def open_bus(
    kafka: KafkaSettings,
    client_id: str,
    objects: ObjectStore | None,
    topics: Sequence[str] = ALL_TOPICS,
) -> AsyncIterator[KafkaBus]:
    """The one way to open the bus: ``topics`` ensured (unless ``kafka.ensure_topics`` is off), large
    payloads by claim check when ``objects``."""
    from services.common.bus.claimcheck import ClaimCheck
    from services.common.bus.kafka import KafkaBus

    bus = KafkaBus(
        _require(kafka.bootstrap, "ASSAY_KAFKA_BOOTSTRAP"),
        client_id=client_id,
        claim_check=ClaimCheck(objects, threshold=kafka.claim_check_bytes) if objects else None,
        security=kafka_security(kafka),
    )
    await bus.start()
    try:
        if kafka.ensure_topics:
            await bus.ensure_topics(topics)
        yield bus
    finally:
        await bus.stop()


@contextlib.asynccontextmanager
async def open_store(pg: PgSettings, *, max_size: int | None = None) -> AsyncIterator[Store]:
    """The one way to open the PostgreSQL store (migrated on connect); closed on exit."""
    from services.common.store.postgres import Store

    dsn = _require(pg.dsn, "ASSAY_PG_DSN")
    store = await (Store.connect(dsn) if max_size is None else Store.connect(dsn, max_size=max_size))
    try:
        yield store
    finally:
        await store.close()


def _wanted(need: Need, configured: str) -> bool:
    return need is Need.YES or (need is Need.IF_SET and bool(configured))


@contextlib.asynccontextmanager
async def lifespan(
    settings: S, service: str, needs: Needs, *, burst: bool = False
) -> AsyncIterator[Resources[S]]:
    """Open what ``service`` needs, yield it, and close it all in reverse order."""
    from services.common.aws import AwsClients
    from services.common.objectstore import object_store_for

    async with contextlib.AsyncExitStack() as stack:
        aws = await stack.enter_async_context(AwsClients(settings.aws))
        objects = await object_store_for(settings, aws)
        from services.common.metered_bus import MeteredBus
        from services.common.metrics import Metrics, serve_metrics

        metrics = Metrics(service)
        stop_metrics = asyncio.Event()
        exporter = asyncio.create_task(serve_metrics(metrics, settings.metrics.listen, stop_metrics))

        async def _stop_exporter() -> None:
            stop_metrics.set()
            await exporter

        stack.push_async_callback(_stop_exporter)
        bus: Bus | None = None
        if _wanted(needs.bus, settings.kafka.bootstrap):
            opened = await stack.enter_async_context(
                open_bus(settings.kafka, f"assay-{service}", objects, topics_of(service))
            )
            bus = MeteredBus(opened, metrics)
        store: Store | None = None
        if _wanted(needs.store, settings.pg.dsn):
            store = await stack.enter_async_context(open_store(settings.pg))
        yield Resources(
            settings=settings,
            service=service,
            group=f"{settings.kafka.consumer_group_prefix}-{service}",
            aws=aws,
            objects=objects,
            bus=bus,
            store=store,
            burst=burst,
            metrics=metrics,
        )
