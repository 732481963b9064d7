"""``deploy/compose.yaml`` as ``docker compose up`` runs it, with the registry in ``ASSAY_REGISTRIES``.

Each Assay service of the compose file runs as its own process with its command and environment
(``${ASSAY_REGISTRIES:-}`` filled from the operator's shell), the updater's advisory builds reaching
engines and policy through the shared ``assay-objects`` volume; only PostgreSQL, Kafka, the read
API's address and the advisory source are swapped for the test's own. Every image of the registry
is scanned once and shows Scanning on the way (the engine has the DSN).
"""

from __future__ import annotations

import json

import pytest

from services.common.store.postgres import Store
from tests.system.cluster import record_statuses, statuses_seen
from tests.system.endpoints import API_TOKEN, Endpoints
from tests.system.kubelet import Kubelet, running_fleet
from tests.system.scenario import api_get, counts, registry_digest, wait_for_images
from tests.system.tls_registry import TlsRegistry
from tests.system.workloads import compose_workloads

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(900)]


async def test_compose_scans_every_registry_image_once(
    registry: TlsRegistry, endpoints: Endpoints, tmp_path_factory: pytest.TempPathFactory
) -> None:
    host = registry.host
    web, agent, report = (
        registry_digest(host, r) for r in ("shop/web:1.0", "ops/agent:3.20", "batch/report:2")
    )
    shell = {"ASSAY_REGISTRIES": json.dumps([{"host": host}]), "ASSAY_AUTH_BOOTSTRAP_TOKEN": API_TOKEN}
    workloads = compose_workloads(environ=shell)
    assert {w.name for w in workloads} == {"updater", "inventory", "dedupe", "engine", "policy", "api"}
    store = await Store.connect(endpoints.pg_dsn)  # migrates, so the status trigger has its table
    await store.close()
    await record_statuses(endpoints.pg_dsn)
    async with running_fleet(Kubelet(endpoints, tmp_path_factory.mktemp("compose")), workloads) as fleet:
        images = await wait_for_images(endpoints.pg_dsn, fleet, 3)
        listed = await api_get(fleet.env("api")["ASSAY_API_LISTEN"], "/v1/images")
        engine_log = fleet.logs("engine")
    assert {i["digest"]: i["status"] for i in images} == {web: "scanned", agent: "scanned", report: "scanned"}
    assert {i["digest"] for i in listed["items"]} == {web, agent, report}
    trails = await statuses_seen(endpoints.pg_dsn)
    assert all(trails[d] == ["pending", "scanning", "scanned"] for d in (web, agent, report)), trails
    requested, done = await counts(endpoints.kafka_bootstrap, fleet.shared("assay-objects"))
    assert requested == {web: 1, agent: 1, report: 1}  # two tags each of web and agent: one request
    assert done == {web: 1, agent: 1, report: 1}
    assert "advisory database: now build" in engine_log  # the updater's build, from the volume
