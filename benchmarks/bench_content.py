"""What the default content analyzers add to ``assay scan`` on the Debian fixture.

Three configurations of the same command, measured in one run, interleaved (one of each per
round, so machine load drifts hit all three alike):

* ``--no-content``: packages only (the baseline);
* content analyzers on, layer cache off (``ASSAY_LAYER_CACHE_ENABLED=false``): the full cost;
* content analyzers on, layer cache warm (a first, untimed run fills it).

No advisory database is loaded (``ASSAY_DB_PATH`` points nowhere), so matching does not dilute
the baseline and the overhead percentage is an upper bound of what a scan with matching sees.
Numbers are printed, never asserted; the target is an overhead of at most 30 %.

    .venv/bin/python benchmarks/bench_content.py [--repeat 5] [--fixtures DIR] [--target oci/debian]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
TARGET_OVERHEAD = 0.30


def run_once(argv: Sequence[str], env: Mapping[str, str]) -> tuple[float, float, dict[str, object]]:
    """Wall seconds and CPU seconds (user + system) of one ``assay scan`` child, and its JSON report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(list(argv), env=dict(env), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report: dict[str, object] = json.loads(proc.stdout)
    return wall, cpu, report


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--fixtures", default=os.environ.get("ASSAY_FIXTURES", str(_REPO / ".fixtures")))
    p.add_argument("--target", default="oci/debian", help="an OCI layout under --fixtures")
    args = p.parse_args(argv)
    layout = Path(args.fixtures) / args.target
    if not (layout / "index.json").is_file():
        print(f"no OCI layout at {layout}: run tests/fixtures/build-images.sh", file=sys.stderr)
        return 1
    assay = [sys.executable, "-m", "services.cli.main", "scan", f"oci:{layout}", "--format", "json"]
    with tempfile.TemporaryDirectory(prefix="bench-content-") as work:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
        base_env |= {
            "ASSAY_DATA_DIR": work,
            "ASSAY_DB_PATH": f"{work}/no-db.sqlite",
            "PYTHONPATH": str(_REPO),
        }
        configs = {
            "packages only (--no-content)": (
                [*assay, "--no-content"],
                {**base_env, "ASSAY_LAYER_CACHE_ENABLED": "false"},
            ),
            "content analyzers, no cache": (assay, {**base_env, "ASSAY_LAYER_CACHE_ENABLED": "false"}),
            "content analyzers, warm cache": (assay, base_env),
        }
        for blob in (layout / "blobs").rglob("*"):  # page cache: run 1 must not pay for the disk alone
            if blob.is_file():
                blob.read_bytes()
        run_once(*configs["content analyzers, warm cache"])  # fills the layer cache, untimed
        samples: dict[str, list[float]] = {k: [] for k in configs}
        cpu_samples: dict[str, list[float]] = {k: [] for k in configs}
        outputs: dict[str, str] = {}
        for round_ in range(1, args.repeat + 1):
            for key, (cmd, env) in configs.items():
                wall, cpu, report = run_once(cmd, env)
                samples[key].append(wall)
                cpu_samples[key].append(cpu)
                dets = report.get("detections") or []
                assert isinstance(dets, list)
                pkgs = report.get("packages") or []
                assert isinstance(pkgs, list)
                outputs[key] = f"{len(pkgs)} packages, {len(dets)} detections"
                print(f"  {key:32} run {round_}/{args.repeat}: {wall:6.2f} s wall, {cpu:6.2f} s CPU")
    print(f"\nmachine: {os.cpu_count()} CPUs; target: {layout}; {args.repeat} runs each, interleaved")
    print(f"{'configuration':32}{'wall median':>12}{'range':>13}{'CPU median':>12}{'range':>13}  output")
    wall_med, cpu_med = {}, {}
    for key, walls in samples.items():
        cpus = cpu_samples[key]
        wall_med[key], cpu_med[key] = statistics.median(walls), statistics.median(cpus)
        print(
            f"{key:32}{wall_med[key]:12.2f}{f'{min(walls):.2f}-{max(walls):.2f}':>13}"
            f"{cpu_med[key]:12.2f}{f'{min(cpus):.2f}-{max(cpus):.2f}':>13}  {outputs[key]}"
        )
    base = "packages only (--no-content)"
    for key in ("content analyzers, no cache", "content analyzers, warm cache"):
        for label, med in (("wall", wall_med), ("CPU", cpu_med)):
            overhead = med[key] / med[base] - 1
            verdict = "within" if overhead <= TARGET_OVERHEAD else "OVER"
            target = f"({verdict} the {TARGET_OVERHEAD:.0%} target)"
            print(f"overhead {label:4} {key:30} {overhead * 100:+6.1f} %  {target}")
    # other work on a shared machine only ever adds time, so the fastest run of each is the
    # least disturbed estimate; printed beside the medians, not instead of them
    for key in ("content analyzers, no cache", "content analyzers, warm cache"):
        overhead = min(cpu_samples[key]) / min(cpu_samples[base]) - 1
        print(f"overhead CPU, fastest runs {key:30} {overhead * 100:+6.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
