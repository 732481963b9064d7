"""``assay service NAME``: one pipeline service in this process, with its lifespan.

The lifespan opens what the service needs (telemetry, the bus, the store, the advisory
database), hands those down to a plain handler, runs until SIGTERM or SIGINT, finishes
the batch in flight and closes everything in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator

from opentelemetry import trace

from schemas.events import Event, ImageDiscovered, ImageRemoved
from schemas.topics import ALL_TOPICS, Topics
from services.common.bus.claimcheck import ClaimCheck
from services.common.bus.kafka import KafkaBus
from services.common.clock import utcnow
from services.common.config import Settings, kafka_security
from services.common.errors import AssayError, ConfigError
from services.common.objectstore import object_store_for
from services.common.runner import publish_event, run_service
from services.common.store.postgres import Store
from services.common.telemetry import setup_telemetry
from services.dedupe.run import run_dedupe
from services.engine.catalogers.registry import select
from services.engine.content.registry import ContentAnalysis
from services.engine.core import analysis_version
from services.engine.worker import EngineDeps, make_engine_handler
from services.inventory.aws import AwsClients, AwsInventory, credentials_for, registry_client_factory
from services.inventory.crawler import crawl
from services.inventory.kubernetes import watch_cluster
from services.oci.registry import RegistryClient
from services.policy.app import run_policy
from services.vulndb.builds import advisory_objects, open_followed

log = logging.getLogger(__name__)


def _require(value: str, setting: str) -> str:
    if not value:
        raise ConfigError(f"{setting} is not set (or run everything with `assay up`)")
    return value


@contextlib.asynccontextmanager
async def _stop_on_signals() -> AsyncIterator[asyncio.Event]:
    """An event set by SIGTERM or SIGINT: the service drains and returns."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


@contextlib.asynccontextmanager
async def _bus(settings: Settings, name: str, aws: AwsClients | None = None) -> AsyncIterator[KafkaBus]:
    store = await object_store_for(settings, aws)  # large payloads ride a claim check when configured
    bus = KafkaBus(
        _require(settings.kafka_bootstrap, "ASSAY_KAFKA_BOOTSTRAP"),
        client_id=f"assay-{name}",
        claim_check=ClaimCheck(store, threshold=settings.claim_check_bytes) if store else None,
        security=kafka_security(settings),
    )
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


@contextlib.asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[Store]:
    store = await Store.connect(_require(settings.pg_dsn, "ASSAY_PG_DSN"))
    try:
        yield store
    finally:
        await store.close()


async def _serve_webhooks(settings: Settings, bus: KafkaBus, stop: asyncio.Event) -> None:
    from services.common.serve import serve_app
    from services.inventory.webhooks.receiver import make_webhook_app

    async def emit(key: str, event: ImageDiscovered | ImageRemoved) -> None:
        await publish_event(bus, Topics.INVENTORY, key, event)

    app = make_webhook_app(settings, emit, utcnow)
    await serve_app(app, settings.webhooks.listen, stop, setting="ASSAY_WEBHOOKS_LISTEN", log=log)


async def run_inventory(
    settings: Settings, bus: KafkaBus, stop: asyncio.Event, *, once: bool, aws: AwsClients | None = None
) -> None:
    """Crawl the configured registries and watch the configured clusters, publishing what is seen.

    Registry sightings are one trace-rooted event per image per crawl; cluster watchers publish
    ``ImageDiscovered``/``ImageRemoved`` as pods start and stop, until the service stops.
    """
    tracer = trace.get_tracer("assay.inventory")

    async def emit_cluster_event(event: Event) -> None:
        digest = getattr(event, "digest", "")
        with tracer.start_as_current_span(
            "inventory cluster change",
            context=None,
            attributes={"assay.service": "inventory", "assay.image.digest": digest},
        ):
            await publish_event(bus, Topics.INVENTORY, digest, event)

    # cluster watchers run beside the crawl loop until the service stops (issue 7)
    watchers = [asyncio.create_task(watch_cluster(c, emit_cluster_event)) for c in settings.clusters]
    if settings.webhooks.listen:  # registry notifications, published as they arrive
        watchers.append(asyncio.create_task(_serve_webhooks(settings, bus, stop)))
    for task in watchers:
        task.add_done_callback(_report_watcher_end)
    try:
        await _crawl_registries(settings, bus, stop, tracer, once=once, aws=aws)
    finally:
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)


def _report_watcher_end(task: asyncio.Task[None]) -> None:
    """A cluster watcher only ends on its own when it cannot start (e.g. an unreadable kubeconfig)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("inventory: a cluster watcher stopped: %s", task.exception())


async def _crawl_registries(
    settings: Settings,
    bus: KafkaBus,
    stop: asyncio.Event,
    tracer: trace.Tracer,
    *,
    once: bool,
    aws: AwsClients | None = None,
) -> None:
    # ECR sources and ECR-authenticated registry access (services/inventory/aws) when aws is open
    sources = AwsInventory(settings, aws, credentials_for(settings, aws)) if aws else None
    make_client = registry_client_factory(settings, sources.credentials) if sources else RegistryClient
    async with make_client(settings.registries) as client:
        while not stop.is_set():
            count = 0
            async for event in crawl(client, settings.registries):
                with tracer.start_as_current_span(
                    "inventory discover",
                    context=None,
                    attributes={"assay.service": "inventory", "assay.image.digest": event.digest},
                ):
                    await publish_event(bus, Topics.INVENTORY, event.digest, event)
                count += 1
            if sources is not None and AwsInventory.enabled(settings):
                async for aws_event in sources.poll(client):
                    with tracer.start_as_current_span(
                        "inventory discover",
                        context=None,
                        attributes={"assay.service": "inventory", "assay.image.digest": aws_event.digest},
                    ):
                        await publish_event(bus, Topics.INVENTORY, aws_event.digest, aws_event)
                    count += 1
            log.info("inventory: published %d image sightings", count)
            if once:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.crawl_interval_s)


async def _serve(settings: Settings, name: str, *, once: bool) -> None:
    group = f"{settings.consumer_group_prefix}-{name}"
    if name == "engine" and settings.engine_site:  # one group per site: each sees every request
        group = f"{group}-{settings.engine_site}"
    if name == "api":  # reads PostgreSQL only: no bus
        from services.api.server import serve_api

        async with _stop_on_signals() as stop, _store(settings) as store:
            await serve_api(store.reads, settings.api_listen, stop)
        return
    if name == "harbor":  # Harbor's scanner adapter: scans in process, no bus, no store
        from services.harbor.service import run as run_harbor

        async with _stop_on_signals() as stop:
            await run_harbor(settings, stop)
        return
    async with _stop_on_signals() as stop, AwsClients(settings.aws) as aws, _bus(settings, name, aws) as bus:
        await bus.ensure_topics(ALL_TOPICS)
        if name == "admission":  # the validating webhook (services/admission/)
            from services.admission.service import run_admission

            async def request_scan(event: ImageDiscovered) -> None:
                await publish_event(bus, Topics.INVENTORY, event.digest, event)

            async with _store(settings) as store:
                await run_admission(settings, store, request_scan, stop)
            return
        if name == "inventory":
            await run_inventory(settings, bus, stop, once=once, aws=aws)
        elif name == "node":  # one per Kubernetes node (services/node/)
            from services.node.service import run_node

            async def emit(key: str, event: Event) -> None:
                await publish_event(bus, Topics.INVENTORY, key, event)

            await run_node(settings, emit, stop)
        elif name in ("dedupe", "policy"):
            async with _store(settings) as store:
                if name == "dedupe":  # batches, request confirmation and the sweep: services/dedupe/run.py
                    await run_dedupe(settings, bus, store, group=group, stop=stop)
                    return
                objects = await object_store_for(settings, aws)  # package inventories in S3 when set
                await run_policy(settings, bus, store, stop, group=group, objects=objects)
        elif name == "updater":  # the one owner of advisory data (services/updater/)
            from services.updater.service import run_updater

            async with _store(settings) as store:
                objects = await advisory_objects(settings, aws)
                await run_updater(settings, bus, store, objects, stop, once=once)
        elif name == "engine":
            content = ContentAnalysis.from_settings(settings)
            # with PostgreSQL at hand the engine marks each image "scanning" as it starts on it
            status_store = await Store.connect(settings.pg_dsn) if settings.pg_dsn else None
            # the newest advisory build (the updater's, or the local file), switched without restart
            latest = status_store.builds.latest_announcement if status_store else None
            follower = await open_followed(settings, latest, aws, "engine")
            version = analysis_version(content.analyzers)  # recorded: dedupe and rescan read it
            if status_store is not None:
                await status_store.builds.record_analysis_version(version)
            deps = EngineDeps(
                settings=settings,
                catalogers=select(),
                vulndb=None,
                content=content,
                on_start=status_store.claims.mark_scanning if status_store else None,
                registry_client_factory=registry_client_factory(settings, credentials_for(settings, aws)),
                advisories=follower.holder,
                analysis_version=version,
                isolate=settings.scan_isolation,  # a child process per image (engine/isolate.py)
            )
            handler = make_engine_handler(deps)
            try:
                # One group member per concurrent scan: Kafka spreads partitions across them.
                await asyncio.gather(
                    *(
                        run_service(
                            bus,
                            service=name,
                            group=group,
                            topics=[Topics.SCAN_REQUESTS],
                            handler=handler,
                            stop=stop,
                            max_records=1,
                        )
                        for _ in range(max(1, settings.engine_concurrency))
                    ),
                    follower.run(stop, interval_s=settings.rematch_interval_s),
                )
            finally:
                follower.holder.close()
                if status_store is not None:
                    await status_store.close()


async def run_named_service(settings: Settings, name: str, *, once: bool = False) -> int:
    """Run one service until it is told to stop; returns the exit code."""
    provider = setup_telemetry(f"assay-{name}", settings.otel_exporter)
    try:
        await _serve(settings, name, once=once)
    except AssayError as exc:
        print(f"assay {name}: error: {exc}", file=sys.stderr)
        return 2
    finally:
        provider.shutdown()
    return 0


async def print_findings(settings: Settings) -> int:
    """Print every stored finding, one line each, most severe first."""
    try:
        async with _store(settings) as store:
            images = await store.images()
            findings = await store.findings()
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return 2
    for image in images:
        envs = ", ".join(image.get("environments") or [])
        print(f"{image['status']:<9} {image['digest']} {image['image_ref']} [{envs}]")
        if image.get("error"):
            print(f"          error: {image['error']}")
    print(f"\n{len(findings)} findings")
    for f in findings:
        print(
            f"{f.severity:<9} {f.category:<9} {f.id:<22} {f.package_name} {f.installed_version} "
            f"-> {f.fixed_version or '-'}  ({f.environment})"
        )
    return 0
