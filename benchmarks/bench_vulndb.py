"""Advisory database: build, incremental update and matching times, against a read-the-zips floor.

Measured in one run, on one machine:

* floor: read every member of every ``all.zip`` of the OSV export (zipfile inflate only), and
  read + decode every record with msgspec — no scanner can ingest faster than that;
* ``assay db update`` cold (a fresh database), as a child process, with its peak RSS;
* ``assay db update`` again with nothing changed (every source skipped by fingerprint);
* the same after touching the largest zip (re-read, every record compared, none rewritten)
  and after changing one record of the Debian zip;
* ``match_packages`` alone on the packages of the Debian fixture (taken once from
  ``assay scan --format json``), on a freshly opened database (cold cache) and again (warm).

Numbers are printed, never asserted: see benchmarks/README.md.

    .venv/bin/python benchmarks/bench_vulndb.py [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parent
sys.path.insert(0, str(_REPO))

from schemas.records import Distro, PackageRecord  # noqa: E402
from services.vulndb import osv  # noqa: E402
from services.vulndb.db import VulnDB  # noqa: E402
from services.vulndb.matcher import match_packages  # noqa: E402


class BenchError(Exception):
    """A benchmark could not run (missing data, a child that failed)."""


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    walls: list[float] = []
    out: Any = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - start)
    return walls, out


def _child(argv: list[str], env: dict[str, str], work: Path) -> tuple[float, int, str]:
    """Run ``argv``; (wall seconds, peak RSS KiB from GNU time or 0, stdout)."""
    rss_file = work / "rss.txt"
    timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    full = [timer, "-f", "%M", "-o", str(rss_file), *argv] if timer else argv
    start = time.perf_counter()
    proc = subprocess.run(full, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    rss = int(rss_file.read_text().strip().splitlines()[-1]) if timer and rss_file.exists() else 0
    return wall, rss, proc.stdout


def _read_zips(root: Path, decode: bool) -> tuple[int, int]:
    records = size = 0
    for zip_path in sorted(root.glob("*/all.zip")):
        with zipfile.ZipFile(zip_path) as zf:
            for info in zf.infolist():
                data = zf.read(info)
                records += 1
                size += len(data)
                if decode:
                    osv.decode_record(data)
    return records, size


def _rewrite_one(zip_path: Path, stamp: str) -> str:
    """Give the first record of ``zip_path`` the ``modified`` time ``stamp``; returns its id."""
    tmp = zip_path.with_suffix(".new")
    changed = ""
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if not changed:
                doc = json.loads(data)
                doc["modified"] = stamp
                changed, data = doc["id"], json.dumps(doc).encode()
            dst.writestr(info.filename, data)
    tmp.replace(zip_path)
    return changed


def _fmt(walls: list[float]) -> str:
    med = statistics.median(walls)
    return f"{med:8.3f} s  ({min(walls):.3f}-{max(walls):.3f})"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--vulndata", type=Path, default=Path("/work/shared/vulndata"))
    p.add_argument("--kev", type=Path, default=Path("/work/shared/kev/known_exploited_vulnerabilities.json"))
    p.add_argument(
        "--fixtures", type=Path, default=Path(os.environ.get("ASSAY_FIXTURES", _REPO / ".fixtures"))
    )
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = p.parse_args()
    if not (args.vulndata / "Debian" / "all.zip").is_file():
        print(f"bench_vulndb: no OSV export at {args.vulndata}", file=sys.stderr)
        return 1
    assay = str(Path(sys.executable).with_name("assay"))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-vulndb-") as tmp_name:
        work = Path(tmp_name)
        data = work / "vulndata"
        shutil.copytree(args.vulndata, data, ignore=shutil.ignore_patterns("_raw"))
        zips = sorted(data.glob("*/all.zip"))
        zip_mb = sum(z.stat().st_size for z in zips) / 1e6
        _read_zips(data, decode=False)  # page cache

        floor_read, (records, json_bytes) = _timed(lambda: _read_zips(data, decode=False), args.repeat)
        floor_decode, _ = _timed(lambda: _read_zips(data, decode=True), args.repeat)
        results["floor_read_s"], results["floor_decode_s"] = floor_read, floor_decode

        db = work / "vuln.db"
        env = {**os.environ, "ASSAY_DATA_DIR": str(work), "ASSAY_DB_PATH": str(db)}
        kev = ["--kev", str(args.kev)] if args.kev.is_file() else []
        update = [assay, "db", "update", "--source", str(data), *kev]
        cold: list[float] = []
        rss: list[int] = []
        stats: dict[str, Any] = {}
        for _ in range(args.repeat):
            db.unlink(missing_ok=True)
            wall, peak, out = _child([*update, "--full"], env, work)
            cold.append(wall)
            rss.append(peak)
            stats = json.loads(out)
        nochange = [_child(update, env, work)[0] for _ in range(args.repeat)]
        touched: list[float] = []
        largest = max(zips, key=lambda z: z.stat().st_size)
        for i in range(args.repeat):
            os.utime(largest, ns=(i + 1, i + 1))
            touched.append(_child(update, env, work)[0])
        one_changed: list[float] = []
        for i in range(args.repeat):
            _rewrite_one(data / "Debian" / "all.zip", f"2099-01-01T00:00:{i:02d}Z")
            wall, _, out = _child(update, env, work)
            one_changed.append(wall)
            if json.loads(out)["updated"] != 1:
                raise BenchError(f"expected one changed record, got: {out[:500]}")
        results.update(cold_s=cold, cold_rss_kib=rss, nochange_s=nochange, touched_s=touched)
        results["one_changed_s"] = one_changed

        # Matching alone, on the Debian fixture's packages.
        image = args.fixtures / "oci" / "debian"
        match_line = "skipped: no Debian fixture (tests/fixtures/build-images.sh)"
        if image.is_dir():
            report_file = work / "scan.json"
            _child([assay, "scan", f"oci:{image}", "--format", "json", "-o", str(report_file)], env, work)
            report = json.loads(report_file.read_bytes())
            packages = msgspec.convert(report["packages"], list[PackageRecord])
            distro = (
                msgspec.convert(report["image"]["distro"], Distro) if report["image"].get("distro") else None
            )

            def cold_match() -> int:
                with VulnDB.open(db) as handle:
                    return len(match_packages(handle, distro, packages).matches)

            match_cold, n_matches = _timed(cold_match, args.repeat)
            with VulnDB.open(db) as handle:
                match_packages(handle, distro, packages)
                match_warm, _ = _timed(lambda: match_packages(handle, distro, packages), args.repeat)
            results.update(match_cold_s=match_cold, match_warm_s=match_warm, matches=n_matches)
            match_line = f"{len(packages)} packages, {n_matches} matches"

    print(
        f"OSV export: {len(zips)} zips, {zip_mb:.1f} MB compressed, {records} records, "
        f"{json_bytes / 1e6:.1f} MB JSON"
    )
    print(
        f"database:   {stats.get('advisories')} advisories, {stats.get('affected')} affected rows, "
        f"{stats.get('kev')} KEV entries; median of {args.repeat} runs (min-max)\n"
    )
    rows = [
        ("floor: read every zip member", floor_read),
        ("floor: read + msgspec-decode every record", floor_decode),
        ("assay db update, cold (child process)", cold),
        ("assay db update, nothing changed", nochange),
        (f"assay db update, {largest.parent.name} zip touched", touched),
        ("assay db update, one Debian record changed", one_changed),
    ]
    for label, walls in rows:
        print(f"  {label:<48}{_fmt(walls)}")
    print(f"  {'peak RSS of the cold build':<48}{statistics.median(rss) / 1024:8.1f} MiB")
    if "match_cold_s" in results:
        print(f"  {'match_packages, freshly opened DB':<48}{_fmt(results['match_cold_s'])}  {match_line}")
        print(f"  {'match_packages, warm cache':<48}{_fmt(results['match_warm_s'])}")
    else:
        print(f"  match_packages: {match_line}")
    base = statistics.median(floor_decode)
    print(f"\n  cold build / read+decode floor: {statistics.median(cold) / base:.1f}x")
    print(f"  no-change update / cold build:  {statistics.median(nochange) / statistics.median(cold):.2f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
