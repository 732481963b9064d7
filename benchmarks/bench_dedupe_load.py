"""Events/s through dedupe at fleet scale, with heavy digest overlap, against the broker's own floor.

Starts an embedded PostgreSQL and the embedded Tansu broker (``services/common/embedded.py``)
unless ``ASSAY_PG_DSN`` / ``ASSAY_KAFKA_BOOTSTRAP`` name real ones, generates a synthetic
fleet (default 1,000 clusters x 100 images drawn from 3,000 digests = 100,000 sightings),
and then, in the same run:

* **baseline**: the same records produced through ``KafkaBus`` (acks=all) to a fresh topic
  and read back by a consumer group — the broker's produce and consume throughput with no dedupe;
* **dedupe**: ``loadtest.replay`` of the fleet into ``assay.inventory.v1`` with N real
  ``assay service dedupe`` processes (for each N in ``--replicas``), each run on a fresh
  database, reporting events/s through dedupe (wall, and per CPU-second of the replicas:
  the headline), duplicates dropped, scans requested, duplicate scans, latency p50/p95/p99
  and the dedupe group's maximum lag.

Figures are printed, never asserted; the exit status is 1 when a run requested a digest
twice, missed one, or did not drain.

    .venv/bin/python benchmarks/bench_dedupe_load.py [--replicas 1,2] [--partitions 8]
        [--clusters 1000 --images-per-cluster 100 --digests 3000] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from loadtest.chart import write_chart  # noqa: E402
from loadtest.generate import FleetSpec, add_spec_arguments, spec_from_arguments  # noqa: E402
from loadtest.replay import Inventory, fleet_inventory, replay  # noqa: E402
from loadtest.report import LoadReport, write_report  # noqa: E402
from services.common.bus.kafka import KafkaBus  # noqa: E402
from services.common.embedded import EmbeddedBroker, EmbeddedPostgres  # noqa: E402


async def fresh_database(server_dsn: str) -> str:
    """A new empty database on the server of ``server_dsn``; its DSN."""
    name = f"assay_load_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(server_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlunsplit(urlsplit(server_dsn)._replace(path=f"/{name}"))


async def baseline(
    bootstrap: str, inventory: Inventory, partitions: int, in_flight: int
) -> tuple[float, float]:
    """(produce, consume) events/s of the records through a fresh topic and a consumer group, no dedupe."""
    topic = f"assay-loadtest-baseline-{uuid.uuid4().hex[:8]}"
    bus = KafkaBus(bootstrap, client_id="assay-loadtest-baseline")
    await bus.start()
    try:
        await bus.ensure_topics([topic], partitions=partitions)
        slots = asyncio.Semaphore(in_flight)
        tasks: set[asyncio.Task[None]] = set()

        async def send(key: str, value: bytes) -> None:
            try:
                await bus.publish(topic, key, value)
            finally:
                slots.release()

        t0 = time.monotonic()
        for key, value in inventory.records:
            await slots.acquire()
            task = asyncio.create_task(send(key, value))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        produced = time.monotonic() - t0
        consumer = bus.consumer(f"{topic}-reader", [topic])
        await consumer.start()
        try:
            read, first, last = 0, 0.0, 0.0
            while read < len(inventory.records) and time.monotonic() - t0 < 600:
                batch = await consumer.fetch(max_records=5000, timeout_s=0.5)
                if batch:
                    # The group join takes seconds on Tansu: consume throughput counts from the first batch.
                    first = first or time.monotonic()
                    read += len(batch)
                    await consumer.commit(batch)
                    last = time.monotonic()
        finally:
            await consumer.stop()
    finally:
        await bus.stop()
    n = len(inventory.records)
    return n / produced, read / (last - first) if last > first else 0.0


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # SystemExit unwinds the ExitStacks, so the embedded servers and the replicas are stopped.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_spec_arguments(parser)
    parser.add_argument("--replicas", default="1,2", help="dedupe process counts to run, comma-separated")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--in-flight", type=int, default=2000, help="unacknowledged produces at most")
    parser.add_argument("--out-dir", type=Path, default=None, help="reports and charts (default: a temp dir)")
    args = parser.parse_args(argv)
    spec: FleetSpec = spec_from_arguments(args)
    if problems := spec.problems():
        parser.error("; ".join(problems))
    counts = [int(c) for c in args.replicas.split(",") if c.strip()]
    work = Path(tempfile.mkdtemp(prefix="assay-bench-load-"))
    out_dir: Path = args.out_dir or Path(tempfile.mkdtemp(prefix="assay-bench-load-out-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}")
    inventory = fleet_inventory(spec)
    distinct = len({key for key, _ in inventory.records})
    print(f"fleet: {len(inventory.records):,} events, {distinct:,} distinct digests ({inventory.source})")
    failures = 0
    external_broker = os.environ.get("ASSAY_KAFKA_BOOTSTRAP", "")
    with contextlib.ExitStack() as stack:
        pg_server = (
            os.environ.get("ASSAY_PG_DSN", "") or stack.enter_context(EmbeddedPostgres(work / "postgres")).dsn
        )
        print(f"PostgreSQL {pg_server}, {args.partitions} partitions per topic")
        with contextlib.ExitStack() as run_stack:
            bootstrap = (
                external_broker or run_stack.enter_context(EmbeddedBroker(work / "broker-0")).bootstrap
            )
            produce_rate, roundtrip_rate = asyncio.run(
                baseline(bootstrap, inventory, args.partitions, args.in_flight)
            )
        print(
            f"baseline (no dedupe): produce {produce_rate:,.0f} events/s, "
            f"consume+commit {roundtrip_rate:,.0f} events/s (from the first record read)"
        )
        reports: list[LoadReport] = []
        for count in counts:
            # A broker of its own per run (embedded): the new dedupe group starts on an empty topic.
            with contextlib.ExitStack() as run_stack:
                bootstrap = (
                    external_broker
                    or run_stack.enter_context(EmbeddedBroker(work / f"broker-{count}")).bootstrap
                )
                dsn = asyncio.run(fresh_database(pg_server))
                print(f"\n== dedupe replicas: {count} (broker {bootstrap}) ==")
                report = asyncio.run(
                    replay(
                        inventory,
                        bootstrap=bootstrap,
                        partitions=args.partitions,
                        replicas=count,
                        pg_dsn=dsn,
                        work_dir=work / f"replicas-{count}",
                        in_flight=args.in_flight,
                    )
                )
            write_report(report, out_dir / f"dedupe-load-{count}.json")
            write_chart(report, out_dir / f"dedupe-load-{count}.svg")
            print(report.summary())
            if report.scans_requested != distinct or not report.ok:
                failures += 1
                print(f"FAILED: scans requested {report.scans_requested} for {distinct} distinct digests")
            reports.append(report)
    print("\nsummary")
    print(
        f"  baseline (no dedupe): produce {produce_rate:,.0f} events/s, "
        f"consume {roundtrip_rate:,.0f} events/s"
    )
    for r in reports:
        per_core = f"{r.events_per_dedupe_cpu_s:,.0f}" if r.events_per_dedupe_cpu_s else "n/a"
        print(
            f"  dedupe x{r.dedupe_replicas}: {r.events_per_s_through_dedupe:>10,.0f} events/s wall, "
            f"{per_core} events per dedupe CPU-second, {r.scans_requested:,} scans, "
            f"{r.duplicate_scans} duplicate scans, p99 {r.latency_ms.get('p99', 0):,.0f} ms, "
            f"max lag {r.max_lag:,}"
        )
    print(f"reports and charts in {out_dir}")
    if not failures:
        shutil.rmtree(work, ignore_errors=True)  # the servers' data and the replicas' logs
    else:
        print(f"replica logs kept in {work}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
