"""Scenario 4 (the process faults): SIGKILL each workload of the default install in turn, mid-work.

The updater is killed first, mid-way through the first advisory build the engines wait for (the
restarted updater builds it again). The cluster's pods come in two waves. Inventory, dedupe and
the read API are killed as soon as dedupe has recorded the first sighting; the engine that starts
scanning the Debian image (a scan of seconds) is killed mid-scan, and a policy replica with it;
the second wave of pods arrives while they restart. (The node daemon, off by default, is killed
in ``test_system_node_faults.py``.) Each killed process is started again by the restart policy
(the harness plays the kubelet), and in the end no image is lost (every running image scanned),
no image is scanned twice and no finding is published as new twice or missing from the store.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from services.common.store.postgres import Store
from services.dedupe.store.states import image_states
from tests.harness.fake_kube import FakeKube
from tests.system.cluster import pod
from tests.system.endpoints import Endpoints
from tests.system.kubelet import Kubelet, running_fleet
from tests.system.scenario import assert_nothing_lost_or_doubled, first_wave, until_logged, wait_for_images
from tests.system.tls_registry import TlsRegistry
from tests.system.workloads import k8s_workloads

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(900)]

KILLED = ("assay-updater", "assay-inventory", "assay-dedupe", "assay-api", "assay-engine", "assay-policy")


async def _until_known(dsn: str, count: int, limit_s: float = 300) -> None:
    """Until dedupe has recorded ``count`` images (it is consuming sightings)."""
    deadline = time.monotonic() + limit_s
    store = await Store.connect(dsn)
    try:
        while len(await image_states(store.pool)) < count:
            assert time.monotonic() < deadline, "dedupe recorded no sighting"
            await asyncio.sleep(0.2)
    finally:
        await store.close()


async def test_every_workload_killed_mid_work_recovers_and_nothing_is_lost_or_doubled(
    registry: TlsRegistry, endpoints: Endpoints, kube: FakeKube, tmp_path_factory: pytest.TempPathFactory
) -> None:
    host = registry.host
    web, agent, report = first_wave(kube, host)
    async with running_fleet(Kubelet(endpoints, tmp_path_factory.mktemp("fleet")), k8s_workloads()) as fleet:
        # the updater mid-way through its first build (one source ingested, more to go): engines
        # hold every request until the restarted updater has stored and announced a build
        ingested = "records: "
        await until_logged(fleet, "assay-updater", ingested)
        fleet.kill("assay-updater", logged=ingested)
        await _until_known(endpoints.pg_dsn, 1)  # the first sightings are being handled
        fleet.kill("assay-inventory")
        fleet.kill("assay-dedupe")
        fleet.kill("assay-api")
        scanning = f"scanning {host}/shop/web"
        await until_logged(fleet, "assay-engine", scanning)
        fleet.kill("assay-engine", logged=scanning)  # the engine scanning it, mid-scan
        fleet.kill("assay-policy")
        # the second wave, while the killed ones come back
        kube.add_pod(pod("batch", "report-1", image=f"{host}/batch/report:2", digest=report))
        kube.add_pod(pod("ops", "agent-2", image=f"{host}/ops/agent:latest", digest=agent))
        images = await wait_for_images(endpoints.pg_dsn, fleet, 3)
        events = list(fleet.events)
        restarted = {e.split("/", 1)[0].rsplit("-", 1)[0] for e in events if "killed by SIGKILL" in e}
        updater_log = fleet.logs("assay-updater")
    assert {i["digest"]: i["status"] for i in images} == {web: "scanned", agent: "scanned", report: "scanned"}
    assert restarted == set(KILLED), events

    by_digest = await assert_nothing_lost_or_doubled(
        endpoints.kafka_bootstrap, endpoints.pg_dsn, (web, agent, report)
    )
    assert {"CVE-2024-2398", "CVE-2023-5678"} <= {f.id for f in by_digest[web]}
    assert updater_log.count("announced build") >= 1  # the restarted updater finished the build
