"""The one lifespan (services/common/lifespan.py): what a service needs is opened from settings, the
bus always with the same options (the claim check when an object store is set), and closed on exit."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from schemas.topics import ALL_TOPICS, Topics
from services.cli.registry import SERVICES
from services.common.errors import ConfigError
from services.common.lifespan import SERVICE_TOPICS, Need, Needs, lifespan, topics_of
from services.settings import load_settings
from tests.harness.broker import unique_name


async def test_nothing_configured_opens_nothing_it_may_skip() -> None:
    settings = load_settings({})
    async with lifespan(settings, "api", Needs(bus=Need.IF_SET, store=Need.IF_SET)) as resources:
        assert (resources.bus, resources.store, resources.objects) == (None, None, None)
        assert resources.group == "assay-api"
        with pytest.raises(ConfigError, match="api needs the bus"):
            resources.need_bus()
        with pytest.raises(ConfigError, match="api needs PostgreSQL"):
            resources.need_store()


async def test_a_needed_resource_that_is_not_configured_is_named() -> None:
    with pytest.raises(ConfigError, match="ASSAY_KAFKA_BOOTSTRAP is not set"):
        async with lifespan(load_settings({}), "dedupe", Needs()):
            pass
    with pytest.raises(ConfigError, match="ASSAY_PG_DSN is not set"):
        async with lifespan(load_settings({}), "dedupe", Needs(bus=Need.NO)):
            pass


async def test_bus_with_claim_check_and_store_open_and_close(
    kafka_servers: str, pg_dsn: str, tmp_path: Path
) -> None:
    objects = tmp_path / "objects"
    settings = load_settings(
        {
            "ASSAY_KAFKA_BOOTSTRAP": kafka_servers,
            "ASSAY_KAFKA_CONSUMER_GROUP_PREFIX": unique_name("life"),
            "ASSAY_KAFKA_CLAIM_CHECK_BYTES": "1024",
            "ASSAY_PG_DSN": pg_dsn,
            "ASSAY_OBJECT_STORE_DIR": str(objects),
        }
    )
    large = b"x" * 4096
    async with lifespan(settings, "engine", Needs(), burst=True) as resources:
        assert resources.burst
        assert resources.group == f"{settings.kafka.consumer_group_prefix}-engine"
        bus, store = resources.need_bus(), resources.need_store()
        assert await store.pool.fetchval("SELECT 1") == 1
        key = unique_name("k")
        await bus.publish(Topics.DLQ, key, large)  # every topic was ensured on open
        assert any(p.is_file() for p in objects.rglob("*")), "the large value went to the object store"
        consumer = bus.consumer(unique_name("g"), [Topics.DLQ])
        await consumer.start()
        try:
            async with asyncio.timeout(30):
                got: list[bytes] = []
                while not got:
                    got = [
                        m.value
                        for m in await consumer.fetch(max_records=500, timeout_s=0.5)
                        if m.key == key.encode()
                    ]
        finally:
            await consumer.stop()
        assert got == [large]
    assert store.pool.is_closing()


async def test_every_service_serves_its_metrics_and_counts_what_its_bus_publishes(
    kafka_servers: str, pg_dsn: str
) -> None:
    import aiohttp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = load_settings(
        {
            "ASSAY_KAFKA_BOOTSTRAP": kafka_servers,
            "ASSAY_KAFKA_CONSUMER_GROUP_PREFIX": unique_name("metrics"),
            "ASSAY_PG_DSN": pg_dsn,
            "ASSAY_METRICS_LISTEN": f"127.0.0.1:{port}",
        }
    )
    async with lifespan(settings, "dedupe", Needs()) as resources:
        assert resources.metrics is not None
        await resources.need_bus().publish(Topics.DLQ, unique_name("k"), b"{}")
        text = ""
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(30):
                while 'service="dedupe"' not in text:
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
                            assert resp.status == 200
                            text = await resp.text()
                    except aiohttp.ClientConnectorError:
                        await asyncio.sleep(0.1)
    published = [line for line in text.splitlines() if line.startswith("assay_events_published_total")]
    assert any(f'topic="{Topics.DLQ}"' in line and 'service="dedupe"' in line for line in published), (
        published
    )


def test_each_service_ensures_only_the_topics_it_reads_or_writes() -> None:
    """Every service with a bus has its topics listed (a new one must be added), all real topics;
    an agent's inventory and node daemons ask for the inventory topic alone; other names get all."""
    assert set(SERVICE_TOPICS) == set(SERVICES) - {"harbor"}  # Harbor's adapter scans in process
    for topics in SERVICE_TOPICS.values():
        assert set(topics) <= set(ALL_TOPICS)
    assert topics_of("inventory") == topics_of("node") == (Topics.INVENTORY,)
    assert topics_of("rematch") == ALL_TOPICS
