"""The fleet-scale load test: 100,000 inventory events with heavy digest overlap through the real
dedupe service, broker and PostgreSQL, and not one duplicate scan.

Figures (events/s, latency, lag, events per dedupe CPU-second) are reported by
``benchmarks/bench_dedupe_load.py``; this test asserts only exactly-once behaviour at that scale.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from loadtest.generate import FleetSpec, generate
from loadtest.replay import fleet_inventory, replay
from services.common.store.postgres import Store
from services.dedupe.store.states import image_states
from tests.harness.broker import kafka_bootstrap

pytestmark = [pytest.mark.pipeline, pytest.mark.timeout(1200)]


async def test_100k_sightings_request_each_digest_exactly_once(pg_dsn: str, tmp_path: Path) -> None:
    # 1,000 clusters x 100 images drawn (Zipf) from 3,000 digests: 97% of the events are repeats
    spec = FleetSpec(clusters=1000, images_per_cluster=100, digests=3000, seed=random.randrange(1 << 30))
    inventory = fleet_inventory(spec)
    distinct = {key for key, _ in inventory.records}
    # a broker of its own: the new dedupe group starts on an inventory topic holding only this fleet
    with kafka_bootstrap(tmp_path / "broker") as bootstrap:
        report = await replay(
            inventory,
            bootstrap=bootstrap,
            partitions=8,
            replicas=2,
            pg_dsn=pg_dsn,
            work_dir=tmp_path / "replicas",
            timeout_s=900,
        )
    assert report.problems == []
    assert report.drained
    assert report.events == 100_000
    assert report.distinct_digests == len(distinct)
    assert report.scans_requested == len(distinct)
    assert report.duplicate_scans == 0
    assert report.duplicated_digests == []
    assert report.missing_scans == 0
    assert report.duplicates_dropped == 100_000 - len(distinct)
    store = await Store.connect(pg_dsn)
    try:
        images = {i["digest"]: i for i in await image_states(store.pool)}
    finally:
        await store.close()
    fleet = {i["digest"] for i in images.values()}
    assert fleet >= distinct
    # every claim was confirmed published and is the first generation: none was requested twice
    mine = [images[d] for d in distinct]
    assert all(i["published_at"] is not None for i in mine)
    assert {i["scan_generation"] for i in mine} == {1}
    # every sighting was linked: each (digest, cluster) of the fleet is an environment of its image
    links = {(e.digest, e.environment) for e in generate(spec)}
    assert all(env in images[d]["environments"] for d, env in links)
