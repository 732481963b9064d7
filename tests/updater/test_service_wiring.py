"""The services as processes: `assay service updater` builds and announces; `assay service engine`
records its analysis version and switches advisory builds while it runs, without a restart."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.common.store.postgres import Store
from services.engine.content.registry import build_analyzers
from services.engine.core import analysis_version
from services.settings import load_settings
from tests.harness.process import stop_process
from tests.updater.conftest import make_due, write_osv


def _env(pg_dsn: str, kafka: str, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update(
        ASSAY_PG_DSN=pg_dsn,
        ASSAY_KAFKA_BOOTSTRAP=kafka,
        ASSAY_DATA_DIR=str(tmp / "data"),
        ASSAY_OBJECT_STORE_DIR=str(tmp / "objects"),
        ASSAY_KAFKA_CONSUMER_GROUP_PREFIX=f"wiring-{tmp.name}",
        **extra,
    )
    return env


async def _until(
    check: Callable[[], Any], what: str, proc: subprocess.Popen[bytes], limit_s: float = 60
) -> None:
    deadline = time.monotonic() + limit_s
    while not await check():
        if proc.poll() is not None:
            raise AssertionError(f"the service exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.3)


async def test_the_updater_and_engine_services_share_builds_and_the_analysis_version(
    store: Store, pg_dsn: str, kafka_servers: str, debian_records: dict[str, Any], tmp_path: Path
) -> None:
    ids = sorted(debian_records)[:10]
    source = tmp_path / "osv"
    write_osv(source, [debian_records[i] for i in ids[:5]])
    env = _env(
        pg_dsn, kafka_servers, tmp_path, ASSAY_UPDATER_SOURCE=str(source), ASSAY_REMATCH_INTERVAL_S="0.5"
    )
    updater = [sys.executable, "-m", "services.cli.main", "service", "updater", "--once"]
    done = await asyncio.to_thread(
        subprocess.run, updater, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    first = await store.builds.latest()
    assert first is not None
    assert first.published

    cache = tmp_path / "data" / "advisory-builds" / "engine"
    log = (tmp_path / "engine.log").open("wb")
    engine = await asyncio.to_thread(
        subprocess.Popen,
        [sys.executable, "-m", "services.cli.main", "service", "engine"],
        env={**env, "ASSAY_CONTENT_ANALYZERS": "secrets,insecure"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        expected = analysis_version(
            build_analyzers(load_settings(environ={**env, "ASSAY_CONTENT_ANALYZERS": "secrets,insecure"}))
        )

        async def recorded() -> bool:
            return await store.builds.analysis_version() == expected

        await _until(recorded, "the engine recorded its analysis version", engine)

        async def loaded() -> bool:
            return len(list(cache.glob("*.sqlite"))) == 1

        await _until(loaded, "the engine loaded the first build", engine)
        before = {p.name for p in cache.glob("*.sqlite")}

        write_osv(source, [debian_records[i] for i in ids[5:]])
        await make_due(store)
        done = await asyncio.to_thread(
            subprocess.run, updater, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        second = await store.builds.latest()
        assert second is not None
        assert second.build_id != first.build_id

        async def switched() -> bool:
            names = {p.name for p in cache.glob("*.sqlite")}
            return len(names) == 1 and names != before

        await _until(switched, "the running engine switched to the new build", engine)
        assert engine.poll() is None  # no restart
    finally:
        stop_process(engine)
        log.close()
