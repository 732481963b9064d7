"""The planted content image (tests/fixtures/build-content-image.sh) scanned for real by ``assay scan``.

Every planted secret and insecure item is reported once, under the right category, with its
path and layer; and no raw secret value appears in any output format, in the logs or in
the layer cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from services.cli.formats import FORMATS
from tests.harness.requirements import fixtures_dir, require

pytestmark = pytest.mark.realworld

CATEGORIES = ("InsecureContent", "InsecureCode")


@pytest.fixture(scope="module")
def planted() -> dict[str, Any]:
    path = fixtures_dir() / "content" / "manifest.json"
    require(path.is_file(), f"no {path}: run tests/fixtures/build-content-image.sh")
    manifest: dict[str, Any] = json.loads(path.read_text())
    manifest["target"] = f"oci:{path.parent / 'oci' / 'planted'}"
    return manifest


def _scan(target: str, fmt: str, data_dir: Path, *extra: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update(ASSAY_DATA_DIR=str(data_dir), ASSAY_DB_PATH=str(data_dir / "no-db.sqlite"))
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "-v", "scan", target, "--format", fmt, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def report(planted: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    code, out, err = _scan(planted["target"], "json", tmp_path_factory.mktemp("content-data"))
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def _key(d: dict[str, Any]) -> tuple[str, str, str]:
    return d["category"], d["rule_id"], d.get("path", "")


def test_every_planted_item_is_reported_once_with_path_and_layer(
    planted: dict[str, Any], report: dict[str, Any]
) -> None:
    detections = [d for d in report["detections"] if d["category"] in CATEGORIES]
    items = [i for i in planted["items"] if i["category"] in CATEGORIES]
    assert len(items) >= 12
    for item in items:
        same = [d for d in detections if _key(d) == (item["category"], item["rule"], item["path"])]
        assert len(same) == 1, (item, same)
        [d] = same
        assert d.get("layer_digest", "") == item["layer_digest"], item
        assert d.get("deleted", False) == item.get("deleted", False), item
        if item.get("secret"):
            assert "…" in d["evidence"], d
    # nothing else: the Debian base itself is clean for these analyzers
    assert sorted(_key(d) for d in detections) == sorted((i["category"], i["rule"], i["path"]) for i in items)


def test_a_cached_rescan_reports_the_same(planted: dict[str, Any], tmp_path: Path) -> None:
    runs = []
    for _ in range(2):
        code, out, err = _scan(planted["target"], "json", tmp_path)
        assert code == 0, err
        runs.append(json.loads(out)["detections"])
    assert runs[0] == runs[1]
    assert list((tmp_path / "layer-cache").rglob("*.json"))


def _secrets(planted: dict[str, Any]) -> list[str]:
    secrets = [i["secret"] for i in planted["items"] if i.get("secret")]
    assert len(secrets) >= 5
    return secrets


def _assert_no_leak(where: str, text: str, secrets: list[str]) -> None:
    for secret in secrets:
        for piece in {secret, secret[4:], secret[-12:]}:
            assert piece not in text, f"{where} leaks a planted secret"


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_value_appears_in_an_output_format_or_the_logs(
    fmt: str, planted: dict[str, Any], tmp_path: Path
) -> None:
    code, out, err = _scan(planted["target"], fmt, tmp_path)
    assert code == 0, err
    assert out.strip()
    _assert_no_leak(f"stdout of --format {fmt}", out, _secrets(planted))
    _assert_no_leak(f"stderr (-v) of --format {fmt}", err, _secrets(planted))


def test_no_secret_value_is_stored_in_the_layer_cache(planted: dict[str, Any], tmp_path: Path) -> None:
    code, _, err = _scan(planted["target"], "table", tmp_path)
    assert code == 0, err
    files = [p for p in (tmp_path / "layer-cache").rglob("*") if p.is_file()]
    assert any("github-pat" in p.read_text() for p in files)  # the cache does hold the detections
    for path in files:
        _assert_no_leak(str(path), path.read_text(errors="replace"), _secrets(planted))


async def test_no_secret_value_reaches_a_topic_or_postgresql(planted: dict[str, Any], pg_dsn: str) -> None:
    """The engine's ScanCompleted and the policy's finding events and alerts, as encoded for the bus,
    and every stored row (findings, scans) hold only redacted evidence."""
    from schemas import encode_event
    from schemas.events import FindingEvent
    from services.common.store.postgres import Store
    from services.engine.catalogers.registry import select
    from services.engine.content.registry import ContentAnalysis
    from services.engine.content.settings import LayerCacheSettings
    from services.engine.core import detect
    from services.engine.image.targets import parse_target
    from services.policy.catalog import load_rulesets
    from services.policy.service import make_policy_handler
    from services.settings import Settings

    content = ContentAnalysis.from_settings(Settings(layer_cache=LayerCacheSettings(enabled=False)))
    image = await parse_target(planted["target"]).open()
    async with image:
        bound = content.bind(image.info.layers)
        completed = await detect(
            image, scan_id="planted-1", catalogers=select(), vulndb=None, analyzers=bound.analyzers
        )
    store = await Store.connect(pg_dsn)
    try:
        outgoing = await make_policy_handler(store, load_rulesets())(completed)
        rows = await store.pool.fetch("SELECT row_to_json(f)::text AS r FROM findings f")
        scans = await store.pool.fetch("SELECT row_to_json(s)::text AS r FROM scans s")
    finally:
        await store.close()
    secrets = _secrets(planted)
    findings = [o.event.finding for o in outgoing if isinstance(o.event, FindingEvent)]
    assert any(f.category == "InsecureContent" and f.evidence for f in findings)
    _assert_no_leak("ScanCompleted on assay.detections.v1", encode_event(completed).decode(), secrets)
    for o in outgoing:
        _assert_no_leak(f"{type(o.event).__name__} on {o.topic}", encode_event(o.event).decode(), secrets)
    assert any("InsecureContent" in r["r"] for r in rows)
    for r in [*rows, *scans]:
        _assert_no_leak("a PostgreSQL row", r["r"], secrets)
