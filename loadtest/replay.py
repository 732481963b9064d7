"""Replay an inventory into ``assay.inventory.v1`` and measure what dedupe makes of it.

    python -m loadtest.replay --bootstrap HOST:PORT --file fleet.jsonl [--rate N]
        [--pg-dsn DSN --replicas N] [--report report.json] [--chart chart.svg]
    python -m loadtest.replay --bootstrap HOST:PORT --generate --clusters 1000 --digests 3000 ...

Events are produced through the project's ``KafkaBus`` (acks=all), keyed by digest as
inventory keys them, at ``--rate`` events/s (a token bucket; 0 = as fast as the broker
accepts). With ``--replicas N`` the replayer starts N real dedupe processes in a new
consumer group; with ``--replicas 0`` it measures the dedupe already running in ``--group``.

Measured: events/s accepted by the broker; events/s through dedupe (first send until the
dedupe group's lag is zero) and per CPU-second of the replicas; ScanRequested events seen
for the replayed digests, duplicate scans (must be 0) and missing ones; duplicates dropped;
latency from a digest's first send to its ScanRequested; the group's lag over time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from loadtest.chart import write_chart
from loadtest.generate import FleetSpec, add_spec_arguments, generate, read_jsonl, spec_from_arguments
from loadtest.offsets import GroupProbe
from loadtest.replicas import DedupeReplicas
from loadtest.report import LoadReport, Sample, percentiles, write_report
from schemas import ALL_TOPICS, ImageDiscovered, ScanRequested, Topics, decode_event, encode_event
from services.common.bus.kafka import KafkaBus
from services.common.store.postgres import Store

__all__ = ["Inventory", "file_inventory", "fleet_inventory", "replay"]

SAMPLE_INTERVAL_S = 0.25


class Inventory(msgspec.Struct, frozen=True):
    """The records to replay: (digest key, wire bytes), and where they came from."""

    source: str
    records: list[tuple[str, bytes]]


def fleet_inventory(spec: FleetSpec) -> Inventory:
    """A generated fleet, encoded as on the wire."""
    records = [(e.digest, encode_event(e)) for e in generate(spec)]
    return Inventory(source=f"generated {msgspec.json.encode(spec).decode()}", records=records)


def file_inventory(path: Path) -> Inventory:
    """The lines of a JSONL inventory file."""
    return Inventory(source=str(path), records=list(read_jsonl(path)))


class _TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: float) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._last = time.monotonic()

    async def take(self) -> None:
        while True:
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await asyncio.sleep((1 - self._tokens) / self._rate)


class _Run:
    """The counters the tasks of one replay share."""

    def __init__(self, digests: set[str]) -> None:
        self.digests = digests
        self.produced = 0
        self.produce_done: float | None = None
        self.first_sent: dict[str, float] = {}
        self.scan_seen: dict[str, float] = {}
        self.scan_counts: dict[str, int] = {}
        self.other_scans: dict[str, float] = {}  # warm-up digests and anything else on the topic
        self.last_scan = 0.0
        self.problems: list[str] = []

    @property
    def scans(self) -> int:
        return len(self.scan_seen)


async def _collect_scans(
    bus: KafkaBus, group: str, start: dict[int, int], run: _Run, stop: asyncio.Event
) -> None:
    """Every ScanRequested from the ``start`` offsets (per partition) on, with the time it was seen."""
    consumer = bus.consumer(group, [Topics.SCAN_REQUESTS])
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.fetch(max_records=1000, timeout_s=0.2)
            now = time.monotonic()
            for message in batch:
                if message.offset < start.get(message.partition, 0):
                    continue
                event = decode_event(Topics.SCAN_REQUESTS, message.value)
                if not isinstance(event, ScanRequested):
                    continue
                run.last_scan = now
                if event.digest in run.digests:
                    run.scan_counts[event.digest] = run.scan_counts.get(event.digest, 0) + 1
                    run.scan_seen.setdefault(event.digest, now)
                else:
                    run.other_scans.setdefault(event.digest, now)
    finally:
        await consumer.stop()


async def _read_ends(bus: KafkaBus, group: str, topic: str, quiet_s: float = 1.0) -> dict[int, int]:
    """One past the last offset read per partition, reading ``topic`` from its start until quiet.

    The quiet period counts from the group join (seconds on Tansu), not from ``start()``.
    """
    consumer = bus.consumer(group, [topic])
    await consumer.start()
    ends: dict[int, int] = {}
    try:
        joined_by = time.monotonic() + 60
        last = time.monotonic()
        while time.monotonic() - last < quiet_s or (
            not consumer.assignment() and time.monotonic() < joined_by
        ):
            batch = await consumer.fetch(max_records=5000, timeout_s=0.2)
            if batch or not consumer.assignment():
                last = time.monotonic()
            for message in batch:
                ends[message.partition] = max(ends.get(message.partition, 0), message.offset + 1)
    finally:
        await consumer.stop()
    return ends


async def _produce(
    bus: KafkaBus, records: Sequence[tuple[str, bytes]], run: _Run, rate: float, in_flight: int
) -> None:
    """Publish every record, at most ``in_flight`` unacknowledged, paced by a token bucket."""
    bucket = _TokenBucket(rate, burst=max(1.0, rate / 20)) if rate > 0 else None
    slots = asyncio.Semaphore(in_flight)
    tasks: set[asyncio.Task[None]] = set()

    async def send(key: str, value: bytes) -> None:
        try:
            await bus.publish(Topics.INVENTORY, key, value)
            run.produced += 1
        finally:
            slots.release()

    for key, value in records:
        if bucket is not None:
            await bucket.take()
        await slots.acquire()
        run.first_sent.setdefault(key, time.monotonic())
        task = asyncio.create_task(send(key, value))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    run.produce_done = time.monotonic()
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]


async def _warm_up(
    bus: KafkaBus, run: _Run, partitions: int, replicas: DedupeReplicas, limit_s: float
) -> None:
    """Publish a few throw-away digests and wait for their scans: dedupe is up and owns every partition."""
    digests = [
        "sha256:" + hashlib.sha256(f"warm-up:{uuid.uuid4()}:{i}".encode()).hexdigest()
        for i in range(4 * partitions)
    ]
    for digest in digests:
        event = ImageDiscovered(
            environment="loadtest:warm-up", registry="warm-up.invalid", repository="warm-up", digest=digest
        )
        await bus.publish(Topics.INVENTORY, digest, encode_event(event))
    deadline = time.monotonic() + limit_s
    while not all(d in run.other_scans for d in digests):
        if failed := replicas.failed():
            raise RuntimeError("; ".join(failed))
        if time.monotonic() > deadline:
            raise RuntimeError(f"dedupe did not answer the warm-up events within {limit_s:.0f} s")
        await asyncio.sleep(0.2)


def _cpu_busy_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


async def _stand_in_for_an_engine(pg_dsn: str) -> None:
    """Dedupe claims under the analysis version an engine records at start-up (and waits for one);
    no engine runs in a load test, so the replay records one unless an engine already did."""
    store = await Store.connect(pg_dsn)
    try:
        if await store.builds.analysis_version() is None:
            await store.builds.record_analysis_version("loadtest")
    finally:
        await store.close()


async def replay(
    inventory: Inventory,
    *,
    bootstrap: str,
    rate: float = 0.0,
    partitions: int = 8,
    replicas: int = 0,
    pg_dsn: str = "",
    group: str = "assay-dedupe",
    work_dir: Path | None = None,
    timeout_s: float = 900.0,
    in_flight: int = 2000,
) -> LoadReport:
    """Replay ``inventory`` and measure dedupe; see the module docstring.

    With ``replicas > 0``, ``pg_dsn`` must name a database where the replayed digests were
    never claimed (a fresh one), else they are rightly not requested again.
    """
    if replicas > 0 and not pg_dsn:
        raise ValueError("starting dedupe replicas needs a PostgreSQL DSN")
    if replicas > 0:
        await _stand_in_for_an_engine(pg_dsn)
    run = _Run({key for key, _ in inventory.records})
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    prefix = f"assay-loadtest-{uuid.uuid4().hex[:8]}"
    scan_group = f"{prefix}-scans"
    if replicas > 0:
        group = f"{prefix}-dedupe"
    bus = KafkaBus(bootstrap, client_id="assay-loadtest")
    await bus.start()
    stop = asyncio.Event()
    with contextlib.ExitStack() as stack:
        work = work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="assay-loadtest-")))
        try:
            await bus.ensure_topics(ALL_TOPICS, partitions=partitions)
            # Scan requests already on the topic are not this run's: the collector skips them.
            async with GroupProbe(bootstrap, scan_group, Topics.SCAN_REQUESTS) as scans_probe:
                listed = await scans_probe.end_offsets()
            # Tansu 0.6 answers ListOffsets with the last *batch's* base offset + 1, so after a
            # multi-record produce (dedupe publishes a batch's requests together) the listed end
            # is short: read the records that are there and take the larger of the two.
            read = await _read_ends(bus, f"{scan_group}-ends", Topics.SCAN_REQUESTS)
            scan_start = {p: max(listed.get(p, 0), read.get(p, 0)) for p in listed.keys() | read.keys()}
            async with GroupProbe(bootstrap, group, Topics.INVENTORY) as lag_probe:
                collector = asyncio.create_task(_collect_scans(bus, scan_group, scan_start, run, stop))
                dedupe = stack.enter_context(
                    DedupeReplicas(
                        count=replicas, bootstrap=bootstrap, pg_dsn=pg_dsn, group_prefix=prefix, work_dir=work
                    )
                )
                try:
                    if replicas > 0:
                        await _warm_up(bus, run, lag_probe.partitions, dedupe, limit_s=120)
                        await asyncio.sleep(2.0)  # a replica that joined late has rebalanced by now
                        await _warm_up(bus, run, lag_probe.partitions, dedupe, limit_s=120)
                    report = await _measure(
                        inventory, bus, lag_probe, dedupe, run, rate, in_flight, timeout_s
                    )
                finally:
                    stop.set()
                    await collector
        finally:
            await bus.stop()
    report.started_at = started_at
    report.dedupe_group = group
    report.dedupe_replicas = replicas
    return report


async def _measure(
    inventory: Inventory,
    bus: KafkaBus,
    lag_probe: GroupProbe,
    dedupe: DedupeReplicas,
    run: _Run,
    rate: float,
    in_flight: int,
    timeout_s: float,
) -> LoadReport:
    """The timed part: produce, sample lag until it is zero, then let the scan requests settle."""
    cpu0 = dedupe.cpu_seconds()
    busy0, total0 = _cpu_busy_jiffies()
    t0 = time.monotonic()
    samples: list[Sample] = []
    producer = asyncio.create_task(_produce(bus, inventory.records, run, rate, in_flight))
    drained_at: float | None = None
    cpu1, busy1, total1 = cpu0, busy0, total0
    deadline = t0 + timeout_s
    while time.monotonic() < deadline:
        await asyncio.sleep(SAMPLE_INTERVAL_S)
        lag = await lag_probe.lag()
        now = time.monotonic()
        samples.append(Sample(round(now - t0, 3), run.produced, lag, run.scans))
        if producer.done() and producer.exception() is not None:
            break
        if producer.done() and lag == 0:
            drained_at = now
            cpu1 = dedupe.cpu_seconds()
            busy1, total1 = _cpu_busy_jiffies()
            break
        if failed := dedupe.failed():
            run.problems.extend(failed)
            break
    if not producer.done():
        producer.cancel()
    (outcome,) = await asyncio.gather(producer, return_exceptions=True)
    if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
        run.problems.append(f"producing failed: {outcome!r}")
    if drained_at is None and time.monotonic() >= deadline:
        run.problems.append(f"dedupe lag not back to 0 within {timeout_s:.0f} s")
    # Lag 0 means every ScanRequested was acknowledged before the commit: wait until they are read.
    settle_deadline = time.monotonic() + 30
    while run.scans < len(run.digests) and time.monotonic() < settle_deadline:
        if time.monotonic() - max(run.last_scan, drained_at or 0) > 3.0:
            break
        await asyncio.sleep(0.1)
    samples.append(
        Sample(round(time.monotonic() - t0, 3), run.produced, samples[-1].lag if samples else 0, run.scans)
    )
    return _report(
        inventory,
        lag_probe,
        dedupe,
        run,
        rate,
        t0,
        drained_at,
        samples,
        cpu1 - cpu0,
        (busy1 - busy0, total1 - total0),
    )


def _report(
    inventory: Inventory,
    lag_probe: GroupProbe,
    dedupe: DedupeReplicas,
    run: _Run,
    rate: float,
    t0: float,
    drained_at: float | None,
    samples: list[Sample],
    dedupe_cpu: float,
    busy: tuple[int, int],
) -> LoadReport:
    events = len(inventory.records)
    produce_s = (run.produce_done or time.monotonic()) - t0
    drain_s = (drained_at or time.monotonic()) - t0
    cpus = os.cpu_count() or 1
    busy_jiffies, total_jiffies = busy
    duplicated = sorted(d for d, n in run.scan_counts.items() if n > 1)
    latencies = [(run.scan_seen[d] - run.first_sent[d]) * 1000 for d in run.scan_seen if d in run.first_sent]
    scans = sum(run.scan_counts.values())
    return LoadReport(
        started_at="",
        source=inventory.source,
        events=events,
        distinct_digests=len(run.digests),
        partitions=lag_probe.partitions,
        rate_limit=rate,
        dedupe_group=lag_probe.group,
        dedupe_replicas=dedupe.count,
        produce_s=round(produce_s, 3),
        accepted_events_per_s=round(run.produced / produce_s, 1) if produce_s > 0 else 0.0,
        drained=drained_at is not None,
        drain_s=round(drain_s, 3),
        events_per_s_through_dedupe=round(events / drain_s, 1) if drained_at is not None else 0.0,
        dedupe_cpu_s=round(dedupe_cpu, 2) if dedupe.count else None,
        events_per_dedupe_cpu_s=round(events / dedupe_cpu, 1) if dedupe.count and dedupe_cpu > 0 else None,
        machine_cpus=cpus,
        machine_busy_cores=round(cpus * busy_jiffies / total_jiffies, 2) if total_jiffies else 0.0,
        scans_requested=scans,
        duplicate_scans=scans - len(run.scan_counts),
        duplicated_digests=duplicated[:20],
        missing_scans=len(run.digests) - len(run.scan_counts),
        duplicates_dropped=events - scans,
        latency_ms={k: round(v, 1) for k, v in percentiles(latencies).items()},
        max_lag=max((s.lag for s in samples), default=0),
        samples=samples,
        problems=run.problems,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m loadtest.replay``: replay, print the figures, write the report and chart."""
    parser = argparse.ArgumentParser(prog="python -m loadtest.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers, HOST:PORT[,...]")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="a JSONL inventory (loadtest.generate writes one)")
    source.add_argument("--generate", action="store_true", help="replay a synthetic fleet (options below)")
    add_spec_arguments(parser)
    parser.add_argument("--rate", type=float, default=0.0, help="events/s; 0 = as fast as accepted")
    parser.add_argument("--partitions", type=int, default=8, help="partitions of topics this run creates")
    parser.add_argument("--replicas", type=int, default=1, help="dedupe processes to start; 0 = external")
    parser.add_argument("--pg-dsn", default="", help="PostgreSQL for the replicas: use a fresh database")
    parser.add_argument("--group", default="assay-dedupe", help="the external dedupe's group (--replicas 0)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for zero lag")
    parser.add_argument("--work-dir", type=Path, help="keep the replicas' logs here")
    parser.add_argument("--report", type=Path, default=Path("loadtest-report.json"))
    parser.add_argument("--chart", type=Path, default=Path("loadtest-report.svg"))
    args = parser.parse_args(argv)
    if args.replicas > 0 and not args.pg_dsn:
        parser.error("--replicas > 0 needs --pg-dsn (a fresh database), or use --replicas 0")
    if args.file is not None:
        inventory = file_inventory(args.file)
    else:
        spec = spec_from_arguments(args)
        if problems := spec.problems():
            parser.error("; ".join(problems))
        inventory = fleet_inventory(spec)
    report = asyncio.run(
        replay(
            inventory,
            bootstrap=args.bootstrap,
            rate=args.rate,
            partitions=args.partitions,
            replicas=args.replicas,
            pg_dsn=args.pg_dsn,
            group=args.group,
            work_dir=args.work_dir,
            timeout_s=args.timeout,
        )
    )
    write_report(report, args.report)
    write_chart(report, args.chart)
    print(report.summary())
    print(f"report {args.report}, chart {args.chart}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
