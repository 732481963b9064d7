"""Consumer lag per topic and partition, dedupe hits, rematch duration and layer bytes: the series
issue 15 asks of every service, read as Prometheus reads them (prometheus-client's parser), on the
memory bus and on the real broker (embedded Tansu unless ASSAY_KAFKA_BOOTSTRAP is set)."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from schemas.codec import encode_event
from schemas.events import ImageDiscovered, ScanCompleted
from schemas.records import ImageInfo, LayerInfo
from schemas.topics import Topics
from services.common.bus.interface import Message
from services.common.bus.kafka import KafkaBus
from services.common.bus.memory import MemoryBus
from services.common.metered_bus import MeteredBus
from services.common.metrics import Metrics
from services.common.store.postgres import Store
from services.dedupe.service import Dedupe, DedupeConfig
from tests.harness.broker import unique_name


def _series(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Samples of ``name`` by their labels (without ``service``)."""
    return {
        tuple(sorted((k, v) for k, v in s.labels.items() if k != "service")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


async def _lag(metrics: Metrics) -> dict[tuple[tuple[str, str], ...], float]:
    return _series((await metrics.exposition()).decode(), "assay_consumer_lag")


def _key(group: str, topic: str, partition: int) -> tuple[tuple[str, str], ...]:
    return (("group", group), ("partition", str(partition)), ("topic", topic))


async def test_lag_on_the_memory_bus_follows_commits_and_leaves_with_the_member() -> None:
    metrics = Metrics("engine")
    bus = MeteredBus(MemoryBus(partitions=1), metrics)
    await bus.start()
    for n in range(5):
        await bus.publish("t", f"k{n}", b"v")
    consumer = bus.consumer("g", ["t"])
    await consumer.start()
    assert await _lag(metrics) == {_key("g", "t", 0): 5}
    got = await consumer.fetch(max_records=2, timeout_s=1)
    await consumer.commit(got)
    assert await _lag(metrics) == {_key("g", "t", 0): 3}
    await consumer.stop()
    assert await _lag(metrics) == {}  # a partition this member no longer owns has no series


async def test_lag_on_the_real_broker_is_high_watermark_minus_committed(kafka_servers: str) -> None:
    topic, group = unique_name("lag"), unique_name("g")
    metrics = Metrics("dedupe")
    bus = MeteredBus(KafkaBus(kafka_servers, session_timeout_ms=6000), metrics)
    await bus.start()
    try:
        await bus.ensure_topics([topic], partitions=1)
        for n in range(6):
            await bus.publish(topic, f"k{n}", f"v{n}".encode())
        consumer = bus.consumer(group, [topic])
        await consumer.start()
        got: list[Message] = []
        async with asyncio.timeout(30):
            while len(got) < 6:
                got.extend(await consumer.fetch(max_records=100, timeout_s=0.5))
        assert await _lag(metrics) == {_key(group, topic, 0): 0}  # all fetched, nothing committed yet
        await consumer.commit(got[:2])
        assert await _lag(metrics) == {_key(group, topic, 0): 4}
        await consumer.commit(got)
        assert await _lag(metrics) == {_key(group, topic, 0): 0}
        await consumer.stop()
    finally:
        await bus.stop()


async def test_completed_scans_count_their_layer_bytes() -> None:
    metrics = Metrics("engine")
    bus = MeteredBus(MemoryBus(), metrics)
    await bus.start()
    layers = [LayerInfo(digest="sha256:a", size=1000), LayerInfo(digest="sha256:b", size=234)]
    done = ScanCompleted(scan_id="s", image=ImageInfo(ref="r", layers=layers))
    await bus.publish(Topics.DETECTIONS, "k", encode_event(done))
    got = _series((await metrics.exposition()).decode(), "assay_scan_layer_bytes_total")
    assert got == {(): 1234}


async def test_dedupe_counts_sightings_that_needed_no_scan(pg_dsn: str) -> None:
    store = await Store.connect(pg_dsn)
    hits: list[int] = []
    dedupe = Dedupe(
        store, DedupeConfig(analysis_version="v", max_image_bytes=1 << 30), count_hits=hits.append
    )
    try:

        def seen(env: str, digest: str) -> ImageDiscovered:
            return ImageDiscovered(
                environment=env, registry="r.example", repository="a", digest=digest, tag="1"
            )

        first = await dedupe.handle_batch(
            [seen("c:a", "sha256:aa"), seen("c:b", "sha256:aa"), seen("c:a", "sha256:bb")]
        )
        assert [len(r) for r in first] == [1, 0, 1]  # type: ignore[arg-type]
        assert hits == [1]  # the second sighting of sha256:aa
        await dedupe.published([o for r in first for o in r])  # type: ignore[union-attr]
        await dedupe.handle_batch([seen("c:c", "sha256:aa"), seen("c:c", "sha256:bb")])
        assert hits == [1, 2]  # both already scanned or requested
    finally:
        await store.close()
