"""Engine throughput on the pipeline: images per minute with 1, 2 and 4 engine processes.

The deployment as rendered from ``k8s/`` runs on the system tests' harness, as in
``bench_pipeline_latency.py`` (whose ``measure`` this reuses): embedded PostgreSQL, the Tansu
broker, Debian's docker-registry over HTTPS, the fake Kubernetes API, every workload its own
processes. The images are the Debian fixture under ``--images`` distinct digests (copies whose
configs differ by a label; blobs hard-linked, pushed to one repository so the layers upload once).
All pods start at once, so engines, not arrivals, set the pace. Each engine process runs one
scan at a time (``ASSAY_ENGINE_CONCURRENCY=1``), so "engines" is the number of scans at once,
and without the layer cache (the copies share every layer), so each image is scanned whole.

Printed per engine count: images, seconds from the first pod's start to the last image's first
finding, images per minute, the speed-up over one engine, the parallel efficiency (speed-up
divided by engines) and what each added engine brought (the gain over the previous row divided
by the engines added, as a fraction of one engine's rate). Near-linear scaling is expected only
up to the machine's cores.

    .venv/bin/python benchmarks/bench_engine_throughput.py --images 8 --engines 1,2,4 [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_pipeline_latency import ROOT, measure, push_variants

from tests.system.tls_registry import tls_registry

# one scan per engine process; no layer cache: the variants share every layer, so a cache would
# answer all but the first image's layers and the table would measure the cache, not the scans
_ENGINE_ENV = {"ASSAY_ENGINE_CONCURRENCY": "1", "ASSAY_LAYER_CACHE_ENABLED": "false"}


def efficiency_rows(rates: dict[int, float]) -> list[dict[str, float]]:
    """Speed-up, parallel efficiency and marginal gain per added engine, from images/min by engines."""
    counts = sorted(rates)
    base = rates[counts[0]] * 1.0 / counts[0] if counts else 0.0  # one engine's rate
    rows: list[dict[str, float]] = []
    previous: int | None = None
    for n in counts:
        speedup = rates[n] / base if base else 0.0
        added = (
            (rates[n] - rates[previous]) / ((n - previous) * base) if previous is not None and base else 1.0
        )
        rows.append({"engines": n, "images_per_min": rates[n], "speedup": speedup,
                     "efficiency": speedup / n, "per_added_engine": added})  # fmt: skip
        previous = n
    return rows


def print_rows(rows: list[dict[str, float]], spans: dict[int, float], images: int) -> None:
    print(f"{'engines':>8} {'images':>7} {'seconds':>8} {'images/min':>11} {'speed-up':>9} "
          f"{'efficiency':>11} {'per added engine':>17}")  # fmt: skip
    for row in rows:
        n = int(row["engines"])
        print(
            f"{n:>8} {images:>7} {spans[n]:>8.1f} {row['images_per_min']:>11.1f} {row['speedup']:>8.2f}x "
            f"{row['efficiency']:>10.0%} {row['per_added_engine']:>16.0%}"
        )


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    rates: dict[int, float] = {}
    spans: dict[int, float] = {}
    with tls_registry(work / "registry") as reg:
        args.digests = push_variants(reg, args.fixtures / "oci" / "debian", work, args.images)
        args.interval = 0.0
        cpus = os.cpu_count()
        print(f"{args.images} Debian images (distinct digests), all pods at once; {cpus} CPUs; "
              "one scan per engine process")  # fmt: skip
        for engines in args.engines:
            _, rate = await measure(engines, reg, work / f"run-{engines}", args, _ENGINE_ENV)
            rates[engines], spans[engines] = rate, args.images * 60.0 / rate
            print(f"  {engines} engine(s): {rate:.1f} images/min")
    rows = efficiency_rows(rates)
    print()
    print_rows(rows, spans, args.images)
    return {"images": args.images, "cpus": os.cpu_count(), "rows": rows, "seconds": spans}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=8, help="distinct digests of the Debian fixture")
    p.add_argument("--engines", default="1,2,4", help="engine process counts, comma-separated")
    p.add_argument("--fixtures", type=Path, default=ROOT / ".fixtures")
    p.add_argument("--vulndata", type=Path, default=ROOT.parent / "shared" / "vulndata")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    args.engines = [int(n) for n in args.engines.split(",")]
    if args.images < 1 or min(args.engines) < 1:
        p.error("--images and every --engines count must be at least 1")
    if not (args.fixtures / "oci" / "debian" / "index.json").is_file():
        print(f"bench_engine_throughput: no Debian fixture under {args.fixtures}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
