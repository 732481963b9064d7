"""Scenario 2: registry-only images, on the chart as an operator installs it for a registry.

The chart rendered with an ``ASSAY_REGISTRIES`` Secret (``registries.existingSecret``) and a 100 MB
image cap: inventory crawls the (HTTPS) registry. An image under two tags is scanned once; the
engine marks an image over the cap Too Large from its manifest, and the registry's access log
shows that none of its layers was ever fetched; every other image is scanned.
"""

from __future__ import annotations

import json

import pytest

from tests.system.endpoints import Endpoints
from tests.system.kubelet import Kubelet, running_fleet
from tests.system.scenario import counts, registry_digest, registry_manifest, wait_for_images
from tests.system.tls_registry import TlsRegistry
from tests.system.workloads import rendered_workloads

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(900)]

VALUES = {"registries": {"existingSecret": "assay-registries"}, "imageScan": {"maxImageSizeMb": 100}}


async def test_registry_images_are_scanned_once_and_too_large_ones_never_pulled(
    registry: TlsRegistry, endpoints: Endpoints, tmp_path_factory: pytest.TempPathFactory
) -> None:
    host = registry.host
    web, agent, report = (
        registry_digest(host, r) for r in ("shop/web:1.0", "ops/agent:3.20", "batch/report:2")
    )
    secret = json.dumps([{"host": host}])  # HTTPS with the cluster's trust store, anonymous
    with_secret = Endpoints(
        **{**endpoints.__dict__, "secrets": {**endpoints.secrets, ("assay-registries", "registries"): secret}}
    )
    workloads = rendered_workloads(VALUES, tmp_path_factory.mktemp("rendered"))
    since = registry.mark()  # the registry is the session's: other scenarios pulled these images
    async with running_fleet(Kubelet(with_secret, tmp_path_factory.mktemp("fleet")), workloads) as fleet:
        images = await wait_for_images(endpoints.pg_dsn, fleet, 3)
        engine_log = fleet.logs("assay-engine")
    by_digest = {i["digest"]: i for i in images}
    assert {d: i["status"] for d, i in by_digest.items()} == {
        web: "too_large",
        agent: "scanned",
        report: "scanned",
    }
    assert "over max_image_size_mb=100" in by_digest[web]["error"]
    for image in images:
        assert image["environments"] == [f"registry:{host}"]
    requested, done = await counts(endpoints.kafka_bootstrap, fleet.shared("objects"))
    assert requested == {web: 1, agent: 1, report: 1}  # agent under two tags: one request
    assert done == {web: 1, agent: 1, report: 1}
    # the large image: its manifest and config were read, never a layer
    manifest = json.loads(registry_manifest(host, "shop/web:1.0"))
    assert registry.fetched(f"/v2/shop/web/manifests/{web}", since=since)
    for layer in manifest["layers"]:
        assert not registry.fetched(f"/v2/shop/web/blobs/{layer['digest']}", since=since)
    assert f"scanned {host}/shop/web" not in engine_log
