"""Profile one image's analysis (the walk, catalogers and content analyzers) with cProfile.

    .venv/bin/python benchmarks/profile_walk.py TARGET [--packages-only] [--no-feeds] [--top 25]

TARGET is any ``assay scan`` target (``oci:DIR``, ``docker-archive:FILE``, ``dir:DIR``). By default every
default content analyzer runs, with a synthetic threat feed (20,000 domains, 5,000 networks, 2,000 URLs),
a YARA rule and a SHA-256 hash list loaded, as ``bench_scan.py``'s "full" run does. Prints wall time,
CPU time (less sensitive than wall time to a loaded machine), peak RSS, what was found, and the
top entries by cumulative and by own time: the figures in
``benchmarks/README.md`` ("Where the time goes") come from this script.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_REPO))

from services.engine.analyze import analyze  # noqa: E402
from services.engine.catalogers.registry import select  # noqa: E402
from services.engine.content.netioc.store import update_feeds  # noqa: E402
from services.engine.content.registry import ContentAnalysis  # noqa: E402
from services.engine.image.targets import parse_target  # noqa: E402
from services.settings import Settings, load_settings  # noqa: E402

_YARA = b'rule bench_marker { strings: $a = "assay-bench-marker-7f3a" condition: $a }\n'


def write_loaded_content(work: Path) -> dict[str, str]:
    """A feed file, a YARA rule and a hash list under ``work``; the settings that load them."""
    lines = [f"bad{i}.example-threat{i % 31}.net" for i in range(20_000)]
    lines += [f"198.{18 + i % 2}.{(i // 256) % 256}.{i % 256}/32" for i in range(5_000)]
    lines += [f"http://malware{i}.example.org:8080/payload/{i}.bin" for i in range(2_000)]
    feed = work / "bench-feed.txt"
    feed.write_text("\n".join(lines) + "\n")
    asyncio.run(update_feeds([str(feed)], work / "feeds.json"))
    rules = work / "yara"
    rules.mkdir()
    (rules / "bench.yar").write_bytes(_YARA)
    hashes = work / "hashes.txt"
    hashes.write_text("".join(f"{i:064x} bench-{i}\n" for i in range(1, 1001)))
    return {
        "feeds_path": str(work / "feeds.json"),
        "yara_rules_dir": str(rules),
        "sha256_blocklist": str(hashes),
    }


def _settings(data_dir: str, loaded: dict[str, str]) -> Settings:
    """Settings for one profile run: the layer cache off, ``loaded`` content (feeds, YARA, hashes) on."""
    overrides: dict[str, Any] = {"data": {"dir": data_dir}, "layer_cache": {"enabled": False}}
    if loaded:
        overrides["feeds"] = {"path": loaded["feeds_path"]}
        overrides["malware"] = {k: loaded[k] for k in ("yara_rules_dir", "sha256_blocklist")}
    return load_settings({}, overrides=overrides)


async def _run(target: str, settings: Settings, packages_only: bool) -> str:
    source = parse_target(target, registries=settings.registries, platform=settings.platform)
    image = await source.open()
    async with image:
        analyzers = (
            ()
            if packages_only
            else ContentAnalysis(ContentAnalysis.from_settings(settings).analyzers, None)
            .bind(image.info.layers)
            .analyzers
        )
        result = await analyze(image, select(("image",)), analyzers)
    found = (len(result.packages), len(result.detections), len(result.unknowns))
    return "{} packages, {} detections, {} unknowns".format(*found)


def _profile_walk_threads(prof: cProfile.Profile) -> None:
    """Profile the walk's worker thread: cProfile sees only the thread it is enabled in, and the walk
    runs one layer at a time in ``asyncio.to_thread`` (the feeder's short puts are left out)."""
    original = asyncio.to_thread

    async def to_thread(func, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        if getattr(func, "__name__", "") not in ("run", "walk_directory"):
            return await original(func, *args, **kwargs)

        def profiled():  # type: ignore[no-untyped-def]
            prof.enable()
            try:
                return func(*args, **kwargs)
            finally:
                prof.disable()

        return await original(profiled)

    asyncio.to_thread = to_thread


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("target")
    p.add_argument("--packages-only", action="store_true", help="no content analyzers")
    p.add_argument("--no-feeds", action="store_true", help="default analyzers without feeds, rules, hashes")
    p.add_argument("--no-profile", action="store_true", help="time and RSS only")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-profile-") as tmp:
        extra = {} if args.no_feeds or args.packages_only else write_loaded_content(Path(tmp))
        settings = _settings(tmp, extra)
        prof = cProfile.Profile()
        if not args.no_profile:
            _profile_walk_threads(prof)
        before = resource.getrusage(resource.RUSAGE_SELF)
        cpu_before = before.ru_utime + before.ru_stime
        start = time.perf_counter()
        summary = asyncio.run(_run(args.target, settings, args.packages_only))
        wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    rss = usage.ru_maxrss / 1024
    print(f"{args.target}: {summary}; {wall:.2f} s wall, {cpu:.2f} s CPU, {rss:.0f} MiB peak RSS")
    if not args.no_profile:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(key).print_stats(args.top)
            print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
