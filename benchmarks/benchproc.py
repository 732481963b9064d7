"""Measuring scanners as child processes: wall time and peak RSS, repeated, and the table of results.

Shared by ``bench_scan.py``; only the standard library (and GNU time, when present, for RSS).
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_MIB = 1 << 20


class BenchError(Exception):
    """A benchmark could not run (missing tool or fixture, a child that failed)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One child process: wall seconds, its peak resident set size (KiB, from wait4) and its CPU
    seconds (user + system of the child and the children it waited for, from wait4)."""

    wall_s: float
    rss_kib: int
    cpu_s: float = 0.0


@dataclass(slots=True)
class Measurement:
    """Repeated samples of one command, plus a one-line summary of what it produced."""

    key: str
    label: str
    argv: list[str]
    samples: list[Sample] = field(default_factory=list)
    summary: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(s.wall_s for s in self.samples)

    @property
    def rss_mib(self) -> float:
        return statistics.median(s.rss_kib for s in self.samples) / 1024

    @property
    def cpu(self) -> float:
        """Median CPU seconds: what a loaded machine inflates least (wall time includes waiting)."""
        return statistics.median(s.cpu_s for s in self.samples)

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "argv": self.argv,
            "wall_s": [round(s.wall_s, 3) for s in self.samples],
            "rss_kib": [s.rss_kib for s in self.samples],
            "cpu_s": [round(s.cpu_s, 3) for s in self.samples],
            "median_wall_s": round(self.wall, 3),
            "median_cpu_s": round(self.cpu, 3),
            "median_rss_mib": round(self.rss_mib, 1),
            "summary": self.summary,
        }


Planned = tuple[Measurement, Callable[[Path], str]]
"""A measurement to take and how to summarise its output."""


GNU_TIME = "/usr/bin/time"


def run_child(argv: Sequence[str], env: Mapping[str, str], stdout: Path) -> Sample:
    """Run ``argv`` to completion; its wall time and the peak RSS of that child (and its children).

    The RSS comes from GNU time (``%M``), which reads it with ``wait4``. Not from our own ``wait4``
    on the child: Linux carries the RSS high-water mark of the memory a child had before ``exec``
    (with vfork, this interpreter's, parsed outputs and all) into the child's ``ru_maxrss``, so a
    direct child of a 70 MiB Python process reports at least 70 MiB. ``time`` forks from a 2 MiB
    process. ``getrusage(RUSAGE_CHILDREN)`` deltas would not do either: ``ru_maxrss`` is a
    high-water mark over all children, not a sum. Without GNU time we fall back to ``wait4`` and
    the figure is an upper bound (``run`` warns).
    """
    err = stdout.with_suffix(".stderr")
    rss_file = stdout.with_suffix(".rss")
    use_time = os.access(GNU_TIME, os.X_OK)
    full = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *argv] if use_time else list(argv)
    with stdout.open("wb") as out, err.open("wb") as errf:
        start = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=errf, env=dict(env))
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait for it again
    if proc.returncode != 0:
        tail = err.read_text(errors="replace").strip().splitlines()[-10:]
        raise BenchError(f"{shlex.join(argv)} exited {proc.returncode}:\n  " + "\n  ".join(tail))
    # GNU time may put a "Command exited ..." line first; the figure is the last line.
    rss_kib = int(rss_file.read_text().split()[-1]) if use_time else usage.ru_maxrss
    return Sample(wall, rss_kib, usage.ru_utime + usage.ru_stime)


def measure(
    m: Measurement,
    env: Mapping[str, str],
    work: Path,
    repeat: int,
    summarise: Callable[[Path], str],
) -> Measurement:
    """Run ``m.argv`` ``repeat`` times, printing progress; summarise the last output."""
    out = work / f"{m.key}.out"
    for i in range(repeat):
        sample = run_child(m.argv, env, out)
        m.samples.append(sample)
        print(
            f"  {m.label:<34} run {i + 1}/{repeat}: {sample.wall_s:7.2f} s {sample.rss_kib / 1024:7.1f} MiB"
            f" {sample.cpu_s:7.2f} s CPU"
        )
    m.summary = summarise(out)
    out.unlink()
    return m


def warm_cache(paths: Sequence[Path]) -> None:
    """Read every input once so that the first timed run does not pay for the disk alone."""
    for root in paths:
        for p in [root] if root.is_file() else sorted(root.rglob("*")):
            if p.is_file():
                with p.open("rb") as f:
                    while f.read(8 * _MIB):
                        pass


def ratio(a: Measurement | None, b: Measurement | None, attr: str) -> float | None:
    if a is None or b is None:
        return None
    denominator = getattr(b, attr)
    return getattr(a, attr) / denominator if denominator else None


def print_table(measurements: Sequence[Measurement], ratios: Mapping[str, float | None]) -> None:
    print()
    head = f"{'wall s (median, range)':>24} {'CPU s (median)':>15} {'peak RSS MiB (median, range)':>30}"
    print(f"{'measurement':<40} {head}  output")
    for m in measurements:
        walls = [s.wall_s for s in m.samples]
        rss = [s.rss_kib / 1024 for s in m.samples]
        wall_col = f"{m.wall:7.2f} ({min(walls):.2f}-{max(walls):.2f})"
        rss_col = f"{m.rss_mib:7.1f} ({min(rss):.0f}-{max(rss):.0f})"
        print(f"{m.label:<40} {wall_col:>24} {m.cpu:15.2f} {rss_col:>30}  {m.summary}")
    print()
    for name, value in ratios.items():
        print(f"{name:<48} {'n/a' if value is None else f'{value:.2f}x'}")
