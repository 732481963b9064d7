"""The load test's report: what was measured, as one JSON document, and its text summary."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import msgspec

__all__ = ["LoadReport", "Sample", "percentiles", "write_report"]


class Sample(msgspec.Struct, frozen=True, array_like=True):
    """One reading taken while the replay ran: seconds since the first send, and the counters then."""

    t_s: float
    produced: int  # inventory events acknowledged by the broker
    lag: int  # inventory records the dedupe group has not committed yet
    scans: int  # ScanRequested events seen for the replayed digests


class LoadReport(msgspec.Struct, kw_only=True):
    """Every figure of one replay. Rates are per wall-clock second unless named per CPU second."""

    started_at: str
    source: str  # the JSONL file, or the generated fleet's spec
    events: int
    distinct_digests: int
    partitions: int
    rate_limit: float  # events/s asked for; 0 = as fast as the broker accepts
    dedupe_group: str
    dedupe_replicas: int  # processes started by the replayer; 0 = an external dedupe
    # The broker side: how fast inventory events were accepted (acks=all).
    produce_s: float
    accepted_events_per_s: float
    # Through dedupe: from the first send until the group's lag on the inventory topic was 0.
    drained: bool
    drain_s: float
    events_per_s_through_dedupe: float
    dedupe_cpu_s: float | None  # CPU seconds of the replicas during the replay (None: external)
    events_per_dedupe_cpu_s: float | None  # events/s through dedupe per fully used core
    machine_cpus: int
    machine_busy_cores: float  # average busy CPUs over the drain window, every process counted
    # Outcome.
    scans_requested: int  # ScanRequested events for the replayed digests
    duplicate_scans: int  # ScanRequested events beyond the first for a digest: must be 0
    duplicated_digests: list[str]  # the first few digests requested more than once
    missing_scans: int  # replayed digests that got no ScanRequested
    duplicates_dropped: int  # inventory events that did not become a scan request
    latency_ms: dict[str, float]  # first send of a digest -> its ScanRequested seen: p50, p95, p99, max
    max_lag: int
    samples: list[Sample] = []
    problems: list[str] = []

    @property
    def ok(self) -> bool:
        """Drained, no duplicate scan, no missing scan, nothing went wrong."""
        return self.drained and self.duplicate_scans == 0 and self.missing_scans == 0 and not self.problems

    def summary(self) -> str:
        """The figures as aligned text lines."""
        per_core = (
            f"{self.events_per_dedupe_cpu_s:,.0f} events per dedupe CPU-second "
            f"({self.dedupe_cpu_s:.1f} CPU-s over {self.dedupe_replicas} replica(s))"
            if self.events_per_dedupe_cpu_s is not None and self.dedupe_cpu_s is not None
            else "n/a (external dedupe)"
        )
        lat = self.latency_ms
        lines = [
            f"source                       {self.source}",
            f"events replayed              {self.events:,} ({self.distinct_digests:,} distinct digests)",
            f"partitions / replicas        {self.partitions} / {self.dedupe_replicas}",
            f"accepted by the broker       {self.accepted_events_per_s:,.0f} events/s "
            f"({self.produce_s:.2f} s, rate limit {self.rate_limit or 'none'})",
            f"through dedupe (wall)        {self.events_per_s_through_dedupe:,.0f} events/s "
            f"({self.drain_s:.2f} s to zero lag{'' if self.drained else ', NOT DRAINED'})",
            f"through dedupe per core      {per_core}",
            f"machine                      {self.machine_cpus} CPUs, "
            f"{self.machine_busy_cores:.2f} busy on average (all processes)",
            f"scans requested              {self.scans_requested:,}",
            f"duplicates dropped           {self.duplicates_dropped:,}",
            f"duplicate scans              {self.duplicate_scans}",
            f"missing scans                {self.missing_scans}",
            "latency first send -> scan   "
            + ", ".join(f"{k} {lat[k]:,.0f} ms" for k in ("p50", "p95", "p99", "max") if k in lat),
            f"max consumer lag             {self.max_lag:,} records",
        ]
        lines += [f"problem                      {p}" for p in self.problems]
        return "\n".join(lines)


def percentiles(values: Sequence[float], points: Sequence[int] = (50, 95, 99)) -> dict[str, float]:
    """Nearest-rank percentiles and the maximum, keyed ``p50``…``max``; empty for no values."""
    if not values:
        return {}
    ordered = sorted(values)
    out = {f"p{p}": ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] for p in points}
    out["max"] = ordered[-1]
    return out


def write_report(report: LoadReport, path: Path) -> None:
    """The report as indented JSON."""
    path.write_bytes(msgspec.json.format(msgspec.json.encode(report), indent=2) + b"\n")
