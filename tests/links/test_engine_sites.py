"""Which scan requests from the bus an engine takes.

Sites: an engine restricted to a site (``ASSAY_ENGINE_SITE``) handles requests whose ``sites`` are
empty or name it; an engine without a site handles every request (issue 14, defect 1: it used to
drop every cluster sighting, so the default install never scanned a cluster image). Targets: only
registry references; a local target (``dir:``, ``docker-archive:`` …) is refused without being read
(issue 18, defect 4).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.events import ScanCompleted, ScanFailed, ScanRequested
from services.common.runner import Handler
from services.engine.catalogers.registry import select
from services.engine.worker import EngineDeps, make_engine_handler
from services.settings import load_settings
from tests.harness.registry import RegistryServer, push_image, registry_server, require_tools

pytestmark = pytest.mark.realworld


@pytest.fixture(scope="module")
def registry(fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    require_tools("docker-registry", "skopeo")
    with registry_server(tmp_path_factory.mktemp("registry")) as server:
        push_image(server, f"oci:{fixtures}/oci/alpine:latest", "sites/alpine:3.20")
        yield server


def _request(image_ref: str, sites: list[str]) -> ScanRequested:
    return ScanRequested(
        scan_id="scan-sites",
        digest="sha256:" + "0" * 64,
        image_ref=image_ref,
        environments=["cluster:prod-us"],
        sites=sites,
    )


def _handler(tmp_path: Path, site: str, registry: RegistryServer | None = None) -> Handler:
    settings = load_settings(
        environ={},
        overrides={
            "data": {"dir": str(tmp_path)},
            "engine": {"site": site},
            "content": {"analyzers": ["secrets"]},
            "registries": [registry.config()] if registry else [],
        },
    )
    return make_engine_handler(EngineDeps(settings=settings, catalogers=select(), vulndb=None))


@pytest.mark.parametrize(
    ("site", "sites", "handled"),
    [
        ("prod-eu", [], True),  # no constraint: every site's engines handle it
        ("prod-eu", ["prod-eu", "prod-us"], True),
        ("prod-eu", ["prod-us"], False),  # restricted to another site
        ("", ["prod-us"], True),  # an engine of no site serves every site (the default install)
        ("", [], True),
    ],
)
async def test_engine_filters_requests_by_site(
    registry: RegistryServer, tmp_path: Path, site: str, sites: list[str], handled: bool
) -> None:
    handler = _handler(tmp_path, site, registry)
    out = await handler(_request(f"{registry.host}/sites/alpine:3.20", sites))
    if not handled:
        assert out == []
        return
    assert len(out) == 1
    assert isinstance(out[0].event, ScanCompleted)
    assert any(p.name == "musl" for p in out[0].event.packages)


@pytest.mark.parametrize("transport", ["dir", "docker-archive", "oci", "oci-archive"])
async def test_local_targets_from_the_bus_are_refused_unread(tmp_path: Path, transport: str) -> None:
    secret_root = tmp_path / "engine-disk"
    (secret_root / "root").mkdir(parents=True)
    # what the engine's own filesystem might hold: it must not reach a topic
    (secret_root / "root" / "credentials").write_text("aws_access_key_id = AKIAQYLPMN5HHHFPZAM2\n")
    handler = _handler(tmp_path / "data", "")
    existing = await handler(_request(f"{transport}:{secret_root}", []))
    missing = await handler(_request(f"{transport}:{tmp_path / 'no-such-thing'}", []))
    for out, path in ((existing, secret_root), (missing, tmp_path / "no-such-thing")):
        (record,) = out
        assert isinstance(record.event, ScanFailed)
        assert record.event.error == (
            f"{transport}:{path}: refused: the engine scans only registry references from the bus, "
            f"not local {transport}: targets"
        )
    assert "AKIA" not in repr(existing)
