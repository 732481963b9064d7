"""Advisory refresh -> rematch: how long until N stored images are matched against a new build.

Starts an embedded PostgreSQL (or uses ``ASSAY_PG_DSN``), scans the Debian fixture once for its
package inventory, and stores it as the inventory of ``--images`` distinct images (default
1,000), each sighted in a registry. Then, with a directory object store:

1. the updater builds the "older" advisory set (half of the Debian advisories that hit the
   fixture, from ``../shared/vulndata``) and the policy's follower switches to it and rematches
   every image (the first build: every matching advisory is a new finding);
2. the "newer" set (the other half) is built; the follower switches and rematches again (new and
   resolved findings on every image).

For each it prints the updater's refresh time, the follower's switch (download, SHA-256 check,
open) and the rematch time, images/s and the finding events published (collected in memory: the
broker is not what is measured). Figures are printed, never asserted.

    .venv/bin/python benchmarks/bench_rematch.py [--images 1000] [--fixture .fixtures/oci/debian]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from schemas.events import ScanCompleted  # noqa: E402
from services.common.bus.memory import MemoryBus  # noqa: E402
from services.common.embedded import EmbeddedPostgres  # noqa: E402
from services.common.objectstore import DirectoryObjectStore  # noqa: E402
from services.common.runner import Outgoing  # noqa: E402
from services.common.store.postgres import Store  # noqa: E402
from services.dedupe.store.claims import Claims, Sighting  # noqa: E402
from services.engine.catalogers.registry import select  # noqa: E402
from services.engine.core import detect  # noqa: E402
from services.engine.image.targets import parse_target  # noqa: E402
from services.policy.advisories import AdvisoryFollower  # noqa: E402
from services.policy.catalog import load_rulesets  # noqa: E402
from services.settings import load_settings  # noqa: E402
from services.updater.build import UpdaterPlan  # noqa: E402
from services.updater.service import update_once  # noqa: E402
from services.vulndb.builds import BuildFollower, BuildHolder  # noqa: E402
from services.vulndb.db import VulnDB  # noqa: E402
from services.vulndb.ingest import update_db  # noqa: E402
from services.vulndb.matcher import match_packages  # noqa: E402


@contextlib.contextmanager
def _postgres(work: Path) -> Iterator[str]:
    if os.environ.get("ASSAY_PG_DSN"):
        yield os.environ["ASSAY_PG_DSN"]
        return
    with EmbeddedPostgres(work / "pg") as server:
        yield server.dsn


async def _inventory(fixture: Path) -> ScanCompleted:
    image = await parse_target(f"oci:{fixture}", registries=[], platform="linux/amd64").open()
    async with image:
        return await detect(image, scan_id="bench", catalogers=select(("image",)), vulndb=None)


def _debian_records(vulndata: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(vulndata / "Debian" / "all.zip") as zf:
        return {n.removesuffix(".json"): zf.read(n) for n in zf.namelist() if n.endswith(".json")}


async def _hitting(
    scanned: ScanCompleted, vulndata: Path, work: Path, records: dict[str, bytes]
) -> list[str]:
    """The Debian advisory ids that match the fixture's inventory."""
    full = work / "full.db"
    await update_db(str(vulndata), full, ecosystems=["Debian"])
    with VulnDB.open(full) as db:
        matches = match_packages(db, scanned.image.distro, scanned.packages).matches
    return sorted({i for m in matches for i in m.advisory_ids if i in records})


def _write(folder: Path, records: dict[str, bytes], ids: Sequence[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    for i in ids:
        (folder / f"{i}.json").write_bytes(records[i])


async def _store_images(store: Store, scanned: ScanCompleted, count: int) -> None:
    packages = msgspec.json.encode(scanned.packages)
    for start in range(0, count, 500):
        batch = [f"sha256:{n:064x}" for n in range(start, min(count, start + 500))]
        sightings = [
            Sighting(
                digest=d, image_ref=f"r.example/app@{d}", environment="registry:r.example", repository="app"
            )
            for d in batch
        ]
        await Claims(store.pool).claim(sightings, analysis_version="bench", max_image_bytes=0)
        for d in batch:
            image = msgspec.json.encode(
                msgspec.structs.replace(scanned.image, digest=d, ref=f"r.example/app@{d}")
            )
            await store.save_scan(f"scan-{d[-12:]}", d, image, packages, b"[]", "bench")


class _Collect:
    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, events: Sequence[Outgoing]) -> None:
        self.count += len(events)


async def _round(
    label: str,
    plan: UpdaterPlan,
    store: Store,
    objects: DirectoryObjectStore,
    follower: AdvisoryFollower,
    n: int,
) -> dict[str, Any]:
    async with store.pool.acquire() as conn:  # make the refresh due
        await conn.execute("UPDATE advisory_builds SET checked_at = now() - interval '1 day'")
    bus = MemoryBus()
    await bus.start()
    t0 = time.perf_counter()
    await update_once(plan, bus, store, objects)
    t1 = time.perf_counter()
    await follower.builds.step()
    t2 = time.perf_counter()
    collect = follower.publish
    assert isinstance(collect, _Collect)
    collect.count = 0
    await follower.step()
    t3 = time.perf_counter()
    await bus.stop()
    row = {
        "round": label,
        "refresh_s": round(t1 - t0, 2),
        "switch_s": round(t2 - t1, 2),
        "rematch_s": round(t3 - t2, 2),
        "images_per_s": round(n / (t3 - t2), 1),
        "events": collect.count,
    }
    print(json.dumps(row))
    return row


async def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--fixture", type=Path, default=_REPO / ".fixtures" / "oci" / "debian")
    p.add_argument("--vulndata", type=Path, default=_REPO.parent / "shared" / "vulndata")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="assay-bench-rematch-") as tmp:
        work = Path(tmp)
        scanned = await _inventory(args.fixture)
        records = _debian_records(args.vulndata)
        hitting = await _hitting(scanned, args.vulndata, work, records)
        print(f"fixture: {len(scanned.packages)} packages; {len(hitting)} Debian advisories hit it")
        with _postgres(work) as dsn:
            store = await Store.connect(dsn)
            try:
                t0 = time.perf_counter()
                await _store_images(store, scanned, args.images)
                print(f"stored {args.images} images in {time.perf_counter() - t0:.1f} s")
                source = work / "osv"
                settings = load_settings(
                    environ={
                        "ASSAY_UPDATER_SOURCE": str(source),
                        "ASSAY_UPDATER_WORK_DIR": str(work / "updater"),
                    }
                )
                plan = UpdaterPlan.from_settings(settings)
                objects = DirectoryObjectStore(work / "objects")
                follower = AdvisoryFollower(
                    store=store,
                    rulesets=load_rulesets(),
                    builds=BuildFollower(
                        BuildHolder(work / "cache", objects), store.builds.latest_announcement
                    ),
                    publish=_Collect(),
                    interval_s=3600,
                    updater_interval_s=plan.interval_s,
                )
                half = len(hitting) // 2
                _write(source, records, hitting[:half])
                await _round("older (first build)", plan, store, objects, follower, args.images)
                _write(source, records, hitting[half:])
                await _round("newer (adds and removes)", plan, store, objects, follower, args.images)
            finally:
                await store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
