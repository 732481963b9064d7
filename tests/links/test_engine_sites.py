"""The engine handles a scan request only when its ``sites`` are empty or name the engine's site."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.events import ScanCompleted, ScanRequested
from services.common.config import load_settings
from services.engine.catalogers.registry import select
from services.engine.worker import EngineDeps, make_engine_handler


def _request(layout: Path, sites: list[str]) -> ScanRequested:
    return ScanRequested(
        scan_id="scan-sites",
        digest="sha256:" + "0" * 64,
        image_ref=f"oci:{layout}",
        environments=["registry:reg.example.com"],
        sites=sites,
    )


@pytest.mark.parametrize(
    ("site", "sites", "handled"),
    [
        ("prod-eu", [], True),  # no constraint: every site's engines handle it
        ("prod-eu", ["prod-eu", "prod-us"], True),
        ("prod-eu", ["prod-us"], False),
        ("", ["prod-us"], False),  # an engine of no site only takes unconstrained requests
        ("", [], True),
    ],
)
async def test_engine_filters_requests_by_site(
    fixtures: Path, tmp_path: Path, site: str, sites: list[str], handled: bool
) -> None:
    settings = load_settings(environ={}, data_dir=str(tmp_path), engine_site=site, content_analyzers=[])
    handler = make_engine_handler(EngineDeps(settings=settings, catalogers=select(), vulndb=None))
    out = await handler(_request(fixtures / "oci" / "alpine", sites))
    if not handled:
        assert out == []
        return
    assert len(out) == 1
    assert isinstance(out[0].event, ScanCompleted)
    assert any(p.name == "musl" for p in out[0].event.packages)
