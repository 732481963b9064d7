"""Dedupe's settings and its analysis version: the engines' own, read from PostgreSQL (issue 13)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from schemas.events import ImageDiscovered, ScanRequested
from services.common.store.postgres import Store
from services.dedupe.run import dedupe_config
from services.dedupe.service import Dedupe
from services.dedupe.store.states import image_states
from services.dedupe.version import CurrentVersion, NoAnalysisVersion, recorded_version
from services.engine.content.registry import build_analyzers
from services.engine.core import ANALYZER_VERSION, analysis_version
from services.settings import load_settings


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


def test_size_limit_and_registry_ou_come_from_the_environment() -> None:
    settings = load_settings(
        environ={"ASSAY_MAX_IMAGE_SIZE_MB": "10", "ASSAY_REGISTRIES": "r.example;ou=payments,other.example"}
    )
    assert settings.max_image_size_mb == 10
    assert [(r.host, r.ou) for r in settings.registries] == [("r.example", "payments"), ("other.example", "")]
    assert dedupe_config(settings).max_image_bytes == 10 << 20
    assert load_settings(environ={}).max_image_size_mb == 2048
    clusters = load_settings(environ={"ASSAY_CLUSTERS": '[{"name": "prod", "ou": "payments"}]'}).clusters
    assert clusters[0].ou == "payments"


def _version(environ: dict[str, str]) -> str:
    return analysis_version(build_analyzers(load_settings(environ=environ)))


def test_the_engines_analysis_version_follows_its_analyzers_and_their_rulesets(tmp_path: Path) -> None:
    base = {"ASSAY_DATA_DIR": str(tmp_path)}
    version = _version(base)
    assert version.startswith(ANALYZER_VERSION + "+")
    assert _version(base) == version  # deterministic
    assert _version({**base, "ASSAY_CONTENT_ANALYZERS": "secrets"}) != version
    assert _version({**base, "ASSAY_SECRET_MAX_BYTES": str(1 << 20)}) != version  # a result-changing limit


def test_dedupe_builds_no_content_analyzer_nor_loads_yara_or_the_engine() -> None:
    code = (
        "import sys, services.dedupe.run, services.cli.rescan\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('yara', 'clamd')"
        " or m.startswith(('services.engine.content', 'services.engine.core', 'services.engine.walk',"
        " 'services.vulndb')))\n"
        "print(' '.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


async def test_dedupe_claims_under_the_version_the_engine_recorded(store: Store) -> None:
    sighting = ImageDiscovered(environment="registry:r", registry="r", repository="app", digest="sha256:aa")
    with pytest.raises(NoAnalysisVersion):
        await recorded_version(store.builds.analysis_version)
    version = CurrentVersion(store.builds.analysis_version, poll_s=0.1)
    dedupe = Dedupe(store, dedupe_config(load_settings(environ={})), version)
    waiting = asyncio.create_task(dedupe.handle(sighting))
    await asyncio.sleep(0.3)
    assert not waiting.done(), "with no engine started yet, dedupe waits for its analysis version"
    await store.builds.record_analysis_version("0.1.0+engine-a")
    [request] = await asyncio.wait_for(waiting, timeout=10)
    assert isinstance(request.event, ScanRequested)
    [image] = await image_states(store.pool)
    assert (image["scan_generation"], image["request_reason"]) == (1, "new")
    async with store.pool.acquire() as conn:
        stored = await conn.fetchval("SELECT analysis_version FROM images WHERE digest = 'sha256:aa'")
    assert stored == "0.1.0+engine-a"
    assert await recorded_version(store.builds.analysis_version) == "0.1.0+engine-a"
