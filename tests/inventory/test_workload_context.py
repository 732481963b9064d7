"""Issue 14, defect 5, end to end: a cluster's pods → inventory → dedupe → PostgreSQL → the read API.

The cluster is ``tests/harness/fake_kube.py`` (a fake API server speaking the real wire format: no
real one runs here); inventory's watcher publishes through its ``BusPublisher`` onto the in-memory
bus; dedupe (the real handler) consumes the records in partition order, as a Kafka consumer would,
into real PostgreSQL; the answer is the API's read model (``Reads.workloads_of``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from schemas import Topics, decode_event
from services.api.store import Reads
from services.common.bus.memory import MemoryBus
from services.common.inventory import BusPublisher
from services.common.store.postgres import Store
from services.dedupe.service import Dedupe, DedupeConfig
from services.inventory.kubernetes import ClusterWatcher, open_source
from services.inventory.settings import ClusterConfig
from tests.harness.eventually import until
from tests.harness.fake_kube import FakeKube, fake_kube

POD = Path(__file__).parent / "testdata" / "pods" / "deployment-running.json"
NGINX = "sha256:9ff236ed47fe39cf1f0acf349d0e5137f8b8a6fd0b46e5117a401010e56222e1"


def replica(name: str, *, owned: bool = True) -> dict[str, Any]:
    """A Running pod from the real-shaped fixture: of Deployment shop/web, or a bare pod."""
    data: dict[str, Any] = json.loads(POD.read_text())
    meta = data["metadata"]
    meta["name"] = name
    del meta["uid"], meta["resourceVersion"]
    if not owned:
        del meta["ownerReferences"]
    return data


class Pipeline:
    """The watcher's records, handed to dedupe once each, in order per partition."""

    def __init__(self, bus: MemoryBus, dedupe: Dedupe) -> None:
        self.bus = bus
        self.dedupe = dedupe
        self.done: set[tuple[int, int]] = set()

    async def deliver(self) -> int:
        fresh = [m for m in self.bus.records(Topics.INVENTORY) if (m.partition, m.offset) not in self.done]
        for m in fresh:
            self.done.add((m.partition, m.offset))
        results = await self.dedupe.handle_batch([decode_event(m.topic, m.value) for m in fresh])
        assert not [r for r in results if isinstance(r, Exception)]
        return len(fresh)


@pytest.fixture
async def server() -> AsyncIterator[FakeKube]:
    async with fake_kube() as s:
        yield s


async def test_the_api_names_each_workload_container_and_pod_count(
    server: FakeKube, pg_dsn: str, tmp_path: Path
) -> None:
    for n in range(3):
        server.add_pod(replica(f"web-7c5ddbdf54-{n}"))
    store = await Store.connect(pg_dsn)
    bus = MemoryBus()
    await bus.start()
    pipeline = Pipeline(bus, Dedupe(store, DedupeConfig(analysis_version="test")))
    reads = Reads(store.pool)
    cluster = ClusterConfig(name="prod-eu", kubeconfig=str(server.write_kubeconfig(tmp_path / "kubeconfig")))

    def published() -> int:
        return len(bus.records(Topics.INVENTORY))

    async def nginx_rows() -> set[tuple[str, str, str, str, str, int]]:
        return {
            (w.cluster, w.namespace, w.kind, w.name, w.container, w.pod_count)
            for w in await reads.workloads_of(NGINX)
        }

    try:
        async with open_source(cluster) as source:
            task = asyncio.create_task(ClusterWatcher(cluster, source, BusPublisher(bus)).run())
            await until(lambda: published() == 3, "one sighting per container")  # nginx, log-shipper, init
            await pipeline.deliver()
            assert await nginx_rows() == {("prod-eu", "shop", "Deployment", "web", "nginx", 3)}

            server.delete_pod("shop", "web-7c5ddbdf54-2")  # scaled down
            await until(lambda: published() == 6, "the new counts")
            await pipeline.deliver()
            assert await nginx_rows() == {("prod-eu", "shop", "Deployment", "web", "nginx", 2)}

            server.add_pod(replica("debug", owned=False))  # a bare pod runs the same images
            await until(lambda: published() == 9, "the bare pod's sightings")
            await pipeline.deliver()
            assert ("prod-eu", "shop", "Pod", "debug", "nginx", 1) in await nginx_rows()

            server.delete_pod("shop", "debug")  # it goes; the Deployment still runs the images
            await until(lambda: published() == 15, "unlink and link again, per image")
            await pipeline.deliver()
            assert await nginx_rows() == {("prod-eu", "shop", "Deployment", "web", "nginx", 2)}
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    finally:
        await bus.stop()
        await store.close()
