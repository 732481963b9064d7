"""A small replay through the real dedupe service, broker and PostgreSQL: one scan per digest."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from loadtest.chart import write_chart
from loadtest.generate import FleetSpec, generate, write_jsonl
from loadtest.replay import fleet_inventory, main, replay
from loadtest.report import percentiles, write_report
from services.common.store.postgres import Store
from services.dedupe.store.states import image_states

pytestmark = [pytest.mark.pipeline, pytest.mark.timeout(600)]


async def test_replay_requests_each_digest_once_and_reports_it(
    kafka_servers: str, pg_dsn: str, tmp_path: Path
) -> None:
    # A fresh seed: on a shared broker, earlier runs' digests must not count as this run's.
    spec = FleetSpec(clusters=50, images_per_cluster=40, digests=200, seed=random.randrange(1 << 30))
    report = await replay(
        fleet_inventory(spec),
        bootstrap=kafka_servers,
        partitions=4,
        replicas=2,
        pg_dsn=pg_dsn,
        work_dir=tmp_path / "replicas",
        timeout_s=300,
    )
    assert report.problems == []
    assert report.drained
    assert report.events == 2000
    assert report.distinct_digests == 200
    assert report.scans_requested == 200
    assert report.duplicate_scans == 0
    assert report.duplicated_digests == []
    assert report.missing_scans == 0
    assert report.duplicates_dropped == 1800
    assert report.dedupe_replicas == 2
    assert set(report.latency_ms) == {"p50", "p95", "p99", "max"}
    assert report.dedupe_cpu_s is not None
    assert report.dedupe_cpu_s > 0
    assert report.samples
    assert report.samples[-1].scans == 200
    # the replicas wrote what they claimed: every digest once, with its environments
    store = await Store.connect(pg_dsn)
    try:
        images = await image_states(store.pool)
    finally:
        await store.close()
    digests = {e.digest for e in generate(spec)}
    assert {i["digest"] for i in images} >= digests
    write_report(report, tmp_path / "report.json")
    write_chart(report, tmp_path / "report.svg")
    stored = json.loads((tmp_path / "report.json").read_text())
    for field in (
        "accepted_events_per_s",
        "events_per_s_through_dedupe",
        "events_per_dedupe_cpu_s",
        "duplicates_dropped",
        "scans_requested",
        "duplicate_scans",
        "latency_ms",
        "max_lag",
    ):
        assert field in stored
    assert stored["scans_requested"] == 200
    assert (tmp_path / "report.svg").read_text().startswith("<svg")


def test_the_command_replays_a_file_and_fails_on_a_database_that_saw_the_digests(
    kafka_servers: str, pg_dsn: str, tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet.jsonl"
    write_jsonl(
        generate(FleetSpec(clusters=10, images_per_cluster=10, digests=30, seed=random.randrange(1 << 30))),
        fleet,
    )
    common = ["--bootstrap", kafka_servers, "--file", str(fleet), "--pg-dsn", pg_dsn, "--partitions", "4"]
    common += ["--rate", "500", "--work-dir", str(tmp_path / "work")]
    first = tmp_path / "first.json"
    assert main([*common, "--report", str(first), "--chart", str(tmp_path / "first.svg")]) == 0
    report = json.loads(first.read_text())
    assert report["scans_requested"] == 30
    assert report["duplicates_dropped"] == 70
    assert report["rate_limit"] == 500
    # The same digests again, same database: dedupe rightly requests nothing, so the run fails.
    second = tmp_path / "second.json"
    assert main([*common, "--report", str(second), "--chart", str(tmp_path / "second.svg")]) == 1
    again = json.loads(second.read_text())
    assert again["scans_requested"] == 0
    assert again["missing_scans"] == 30


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentiles(values) == {"p50": 50.0, "p95": 95.0, "p99": 99.0, "max": 100.0}
    assert percentiles([3.0]) == {"p50": 3.0, "p95": 3.0, "p99": 3.0, "max": 3.0}
    assert percentiles([]) == {}
