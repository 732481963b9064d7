"""Dedupe against real PostgreSQL (and the real broker): one scan per digest, durable requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from schemas import ALL_TOPICS, Topics, decode_event, encode_event
from schemas.events import ImageDiscovered, ImageRemoved, ScanRequested
from services.common.bus.interface import Bus, Consumer, Headers
from services.common.bus.kafka import KafkaBus
from services.common.errors import BusError
from services.common.runner import run_service
from services.common.store.postgres import Store
from services.dedupe.service import Dedupe, DedupeConfig, InvalidSighting
from services.dedupe.store.states import image_states
from tests.harness.broker import unique_name

CONFIG = DedupeConfig(analysis_version="test-1", max_image_bytes=2048 << 20)


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


def _seen(env: str, digest: str = "sha256:dd", **kw: object) -> ImageDiscovered:
    return ImageDiscovered(
        environment=env,
        registry="r.example",
        repository="team/app",
        digest=digest,
        tag="1",
        **kw,  # type: ignore[arg-type]
    )


async def test_one_scan_request_per_digest_and_a_removal_unlinks_only_its_environment(store: Store) -> None:
    dedupe = Dedupe(store, CONFIG)
    first = await dedupe.handle(_seen("cluster:a"))
    await dedupe.published(first)
    again = await dedupe.handle(_seen("cluster:b"))
    assert [type(o.event) for o in first] == [ScanRequested]
    assert again == []
    assert await store.environments("sha256:dd") == ["cluster:a", "cluster:b"]
    removed = ImageRemoved(environment="cluster:a", digest="sha256:dd", repository="team/app")
    assert await dedupe.handle(removed) == []
    assert await store.environments("sha256:dd") == ["cluster:b"]
    assert await dedupe.handle(_seen("cluster:a")) == []  # seen again: linked again, no second scan
    assert await store.environments("sha256:dd") == ["cluster:a", "cluster:b"]


async def test_a_batch_answers_each_event_and_keeps_removals_in_order(store: Store) -> None:
    dedupe = Dedupe(store, CONFIG)
    results = await dedupe.handle_batch(
        [
            _seen("cluster:a", ou="payments"),
            _seen("cluster:b"),
            _seen("cluster:a", digest="no-digest"),
            ImageRemoved(environment="cluster:b", digest="sha256:dd", repository="team/app"),
            _seen("cluster:c", digest="sha256:ee", size_bytes=3 << 30),
            _seen("ecs:prod", digest="sha256:ff", scannable=False),
        ]
    )
    assert [type(o.event) for o in results[0]] == [ScanRequested]  # type: ignore[union-attr]
    request = results[0][0].event  # type: ignore[index]
    assert isinstance(request, ScanRequested)
    assert request.reason == "new"
    assert request.environments == ["cluster:a", "cluster:b"]
    assert results[1] == []
    assert results[3] == []
    assert results[4] == []
    assert results[5] == []
    assert isinstance(results[2], InvalidSighting)
    assert "no-digest" in str(results[2])
    assert await store.environments("sha256:dd") == ["cluster:a"]
    statuses = {i["digest"]: i["status"] for i in await image_states(store.pool)}
    assert statuses == {"sha256:dd": "pending", "sha256:ee": "too_large", "sha256:ff": "pending"}


class FlakyBus(Bus):
    """The real ``KafkaBus`` whose first publish to ``fail_topic`` under ``fail_key`` raises
    ``BusError`` unsent (other keys: other tests' records on the session's topics, pass)."""

    def __init__(self, inner: KafkaBus, fail_topic: str, fail_key: str) -> None:
        self.inner, self.fail_topic, self.fail_key, self.failed = inner, fail_topic, fail_key, False

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def publish(self, topic: str, key: str, value: bytes, headers: Headers = ()) -> None:
        if topic == self.fail_topic and key == self.fail_key and not self.failed:
            self.failed = True
            raise BusError("injected: the broker did not acknowledge")
        await self.inner.publish(topic, key, value, headers)

    def consumer(self, group: str, topics: Sequence[str]) -> Consumer:
        return self.inner.consumer(group, topics)

    async def ensure_topics(self, topics: Sequence[str], partitions: int = 4) -> None:
        await self.inner.ensure_topics(topics, partitions)


async def _requests(bootstrap: str, digest: str) -> list[ScanRequested]:
    bus = KafkaBus(bootstrap)
    await bus.start()
    consumer = bus.consumer(unique_name("reader"), [Topics.SCAN_REQUESTS])
    await consumer.start()
    found: list[ScanRequested] = []
    try:
        quiet = 0
        while quiet < 4:
            batch = await consumer.fetch(max_records=500, timeout_s=0.5)
            quiet = 0 if batch else quiet + 1
            for m in batch:
                event = decode_event(m.topic, m.value)
                if isinstance(event, ScanRequested) and event.digest == digest:
                    found.append(event)
    finally:
        await consumer.stop()
        await bus.stop()
    return found


async def test_a_publish_failure_then_redelivery_yields_exactly_one_scan(
    store: Store, kafka_servers: str
) -> None:
    """The claim is committed, the publish fails, the service stops uncommitted; the restarted
    service gets the sighting again and publishes the same request: one scan, not zero. (The
    session's inventory topic may hold other tests' sightings: only this digest is looked at.)"""
    digest = f"sha256:{unique_name('durable').replace('-', '')}"
    bus = FlakyBus(KafkaBus(kafka_servers), Topics.SCAN_REQUESTS, digest)
    await bus.start()
    try:
        await bus.ensure_topics(ALL_TOPICS)
        for env in ("cluster:a", "cluster:b"):
            await bus.inner.publish(Topics.INVENTORY, digest, encode_event(_seen(env, digest=digest)))
        group = unique_name("dedupe")
        dedupe = Dedupe(store, CONFIG)

        async def serve(stop: asyncio.Event) -> None:
            await run_service(
                bus,
                service="dedupe",
                group=group,
                topics=[Topics.INVENTORY],
                batch_handler=dedupe.handle_batch,
                on_published=dedupe.published,
                stop=stop,
                max_records=1,  # the two sightings in separate batches: the second must not re-request
            )

        with pytest.raises(BusError, match="injected"):
            await asyncio.wait_for(serve(asyncio.Event()), 60)
        [image] = [i for i in await image_states(store.pool) if i["digest"] == digest]
        assert image["requested_at"] is not None
        assert image["published_at"] is None

        stop = asyncio.Event()
        task = asyncio.create_task(serve(stop))
        for _ in range(120):
            [image] = [i for i in await image_states(store.pool) if i["digest"] == digest]
            if image["published_at"] is not None and len(image["environments"]) == 2:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # let the second sighting's batch be handled and committed
        stop.set()
        await asyncio.wait_for(task, 60)
    finally:
        await bus.stop()
    requests = await _requests(kafka_servers, digest)
    assert len(requests) == 1, requests
    assert requests[0].scan_id == image["scan_id"]
    assert image["environments"] == ["cluster:a", "cluster:b"]


async def test_requests_go_to_the_engines_of_the_clusters_a_registry_is_linked_to(store: Store) -> None:
    """``ScanRequested.sites``: a linked registry's clusters, a cluster itself, [] when unlinked."""
    from services.common.store.links import link

    dedupe = Dedupe(store, CONFIG)
    await link(store, "r.example", "eu-1")
    await link(store, "r.example", "us-2")
    linked = await dedupe.handle(_seen("registry:r.example", digest="sha256:11"))
    in_cluster = await dedupe.handle(_seen("cluster:edge", digest="sha256:22"))
    unlinked = await dedupe.handle(_seen("registry:other.example", digest="sha256:33"))
    sites = [o.event.sites for out in (linked, in_cluster, unlinked) for o in out]
    assert sites == [["eu-1", "us-2"], ["edge"], []]
