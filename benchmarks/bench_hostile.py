"""Time and peak RSS of ``assay scan`` on each hostile case of issue 18 (tests/hostile/generate.py).

Every case is built in a temporary directory, then scanned once by the real command as a child
process. The table gives wall time, peak RSS (the scan and its isolated analysis child, from GNU
time's ``%M``, which reads ``wait4``), the exit code and the first error line. The goal is every
case under 60 s and 500 MiB; nothing is asserted here (see benchmarks/README.md), the machine
may be loaded.

    .venv/bin/python benchmarks/bench_hostile.py [--case NAME ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile.generate import CASES, build_all, remove_cases  # noqa: E402

GNU_TIME = "/usr/bin/time"
GOAL_S, GOAL_MIB = 60.0, 500.0


def scan(target: str, work: Path) -> dict[str, object]:
    """One ``assay scan`` of ``target``: wall seconds, peak RSS MiB, exit code, first error line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env["ASSAY_DATA_DIR"] = str(work / "data")
    env["ASSAY_DB_PATH"] = str(work / "no-advisories.db")
    rss = work / "rss"
    argv = [
        sys.executable,
        "-m",
        "services.cli.main",
        "scan",
        target,
        "--format",
        "json",
        "-o",
        str(work / "r"),
    ]
    timed = [GNU_TIME, "-f", "%M", "-o", str(rss), *argv] if os.access(GNU_TIME, os.X_OK) else argv
    start = time.perf_counter()
    proc = subprocess.run(timed, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900, check=False)
    wall = time.perf_counter() - start
    rss_mib = int(rss.read_text().split()[-1]) / 1024 if rss.exists() else float("nan")
    errors = [line for line in proc.stderr.splitlines() if line.startswith("assay: error:")]
    return {
        "wall_s": round(wall, 2),
        "rss_mib": round(rss_mib, 1),
        "exit": proc.returncode,
        "traceback": "Traceback" in proc.stderr,
        "error": errors[0][:160] if errors else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="only these cases")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if not os.access(GNU_TIME, os.X_OK):
        print("warning: no GNU time (apt-get install time): RSS not measured", file=sys.stderr)
    results: dict[str, dict[str, object]] = {}
    tmp = tempfile.mkdtemp(prefix="assay-hostile-")
    try:
        print("building the cases ...", flush=True)
        targets = build_all(Path(tmp) / "cases", args.case)
        print(f"{'case':<36} {'wall s':>8} {'RSS MiB':>8} {'exit':>4}  outcome")
        for name, target in targets.items():
            work = Path(tmp) / "runs" / name
            work.mkdir(parents=True)
            result = results[name] = scan(target, work)
            over = result["wall_s"] > GOAL_S or result["rss_mib"] > GOAL_MIB  # type: ignore[operator]
            outcome = "TRACEBACK" if result["traceback"] else (result["error"] or "report")
            mark = "  OVER GOAL" if over else ""
            figures = f"{result['wall_s']:>8} {result['rss_mib']:>8} {result['exit']:>4}"
            print(f"{name:<36} {figures}  {outcome}{mark}")
    finally:
        remove_cases(Path(tmp))
    worst_s = max(float(r["wall_s"]) for r in results.values())  # type: ignore[arg-type]
    worst_mib = max(float(r["rss_mib"]) for r in results.values())  # type: ignore[arg-type]
    print(
        f"\nworst: {worst_s:.1f} s, {worst_mib:.0f} MiB (goal: under {GOAL_S:.0f} s and {GOAL_MIB:.0f} MiB)"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
