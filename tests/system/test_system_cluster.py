"""Scenarios 1 and 6 on the default install: ``k8s/`` exactly as rendered, watching a cluster.

Every workload of ``k8s/`` runs as its own processes, configured exactly as the manifests say
(init containers included, replicas as rendered, KEDA's floor for the engine), with only the
endpoints swapped for real components (``endpoints.py``). The watched cluster (the fake API
server) runs pods whose images live in a registry linked to it; one pod is not running yet.

1. Every running image is scanned exactly once, shows Scanning on the way (the engine has the
   store: issue 14 defect 3; before the sites fix, defect 1, no cluster image was scanned at all),
   and its findings reach ``assay.findings.v1`` and the read API under the cluster's environment;
   the image of the pod that is not running is never requested.
6. Every finding ``assay scan`` reports for an image is in the store, with the same ids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from schemas.events import FindingEvent
from schemas.topics import Topics
from services.common.store.postgres import Store
from services.policy.store import stored_findings
from tests.harness.fake_kube import FakeKube
from tests.pipeline.harness import read_topic
from tests.system.cluster import pod, record_statuses, statuses_seen
from tests.system.endpoints import Endpoints
from tests.system.kubelet import Kubelet, running_fleet
from tests.system.scenario import api_get, assay, counts, registry_digest, wait_for_images
from tests.system.tls_registry import TlsRegistry
from tests.system.workloads import k8s_workloads

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(900)]

CLUSTER = "in-cluster"  # deploy/helm/assay/values.yaml: inventory.watchCluster.name


@dataclass
class Deployed:
    """What the default install did with the cluster, gathered once for the module's tests."""

    digests: dict[str, str]  # web, agent, report -> digest
    images: list[dict[str, Any]]
    trails: dict[str, list[str]]
    requested: dict[str, int]
    done: dict[str, int]
    published: list[FindingEvent]
    api_images: dict[str, Any]
    api_findings: dict[str, Any]
    engine_env: dict[str, str]


def _start_pods(kube: FakeKube, host: str, digests: dict[str, str]) -> None:
    for name, tag in (("web-7d9f8c6b5-a1", "1.0"), ("web-7d9f8c6b5-b2", "stable")):
        image = f"{host}/shop/web:{tag}"
        kube.add_pod(pod("shop", name, image=image, digest=digests["web"], deployment="web"))
    kube.add_pod(pod("ops", "agent-x", image=f"{host}/ops/agent:3.20", digest=digests["agent"]))
    report = pod("batch", "report-1", image=f"{host}/batch/report:2", digest=digests["report"], running=False)
    kube.add_pod(report)


@pytest.fixture(scope="module")
async def deployed(
    registry: TlsRegistry, endpoints: Endpoints, kube: FakeKube, tmp_path_factory: pytest.TempPathFactory
) -> Deployed:
    host = registry.host
    refs = {"web": "shop/web:1.0", "agent": "ops/agent:3.20", "report": "batch/report:2"}
    digests = {k: registry_digest(host, r) for k, r in refs.items()}
    _start_pods(kube, host, digests)
    # the operator links the registry to the cluster (this also migrates the empty database)
    assay("registries", "link", host, CLUSTER, env={"ASSAY_PG_DSN": endpoints.pg_dsn})
    await record_statuses(endpoints.pg_dsn)
    workloads = k8s_workloads()
    assert {w.name for w in workloads} >= {"assay-inventory", "assay-dedupe", "assay-engine", "assay-policy"}
    async with running_fleet(Kubelet(endpoints, tmp_path_factory.mktemp("fleet")), workloads) as fleet:
        images = await wait_for_images(endpoints.pg_dsn, fleet, 2)
        api = fleet.env("assay-api")["ASSAY_API_LISTEN"]
        api_images = await api_get(api, "/v1/images")
        api_findings = await api_get(api, f"/v1/findings?digest={digests['web']}&limit=1000")
        # the advisory database the engine scans with: the updater's build on the shared volume
        (build,) = (fleet.shared("objects") / "advisories").glob("*/vulndb.sqlite")
        engine_env = {**fleet.env("assay-engine"), "ASSAY_DB_PATH": str(build)}
    requested, done = await counts(endpoints.kafka_bootstrap, fleet.shared("objects"))
    findings = await read_topic(endpoints.kafka_bootstrap, Topics.FINDINGS)
    return Deployed(
        digests=digests,
        images=images,
        trails=await statuses_seen(endpoints.pg_dsn),
        requested=dict(requested),
        done=dict(done),
        published=[e for _, e in findings if isinstance(e, FindingEvent)],
        api_images=api_images,
        api_findings=api_findings,
        engine_env=engine_env,
    )


def test_each_running_image_is_scanned_once_and_shows_scanning(deployed: Deployed) -> None:
    web, agent, report = (deployed.digests[k] for k in ("web", "agent", "report"))
    assert {i["digest"]: i["status"] for i in deployed.images} == {web: "scanned", agent: "scanned"}
    for image in deployed.images:
        assert image["environments"] == [f"cluster:{CLUSTER}"]
    assert deployed.trails[web] == ["pending", "scanning", "scanned"]
    assert deployed.trails[agent] == ["pending", "scanning", "scanned"]
    assert report not in deployed.trails  # its pod is not running: never requested
    assert deployed.requested == {web: 1, agent: 1}  # two pods and two tags of web: still one scan
    assert deployed.done == {web: 1, agent: 1}


def test_findings_reach_the_topic_and_the_api_under_the_cluster(deployed: Deployed) -> None:
    web = deployed.digests["web"]
    web_cves = {e.finding.id for e in deployed.published if e.digest == web and e.finding.category == "CVE"}
    assert {"CVE-2024-2398", "CVE-2023-5678"} <= web_cves
    assert {e.finding.environment for e in deployed.published if e.digest == web} == {f"cluster:{CLUSTER}"}
    assert {i["digest"] for i in deployed.api_images["items"]} == {web, deployed.digests["agent"]}
    published_ids = {e.finding.finding_id for e in deployed.published if e.digest == web}
    assert {f["finding_id"] for f in deployed.api_findings["items"]} == published_ids
    for item in deployed.api_findings["items"]:
        assert f"cluster:{CLUSTER}" in item["environments"]


@pytest.mark.parametrize("image", ["web", "agent"])
async def test_every_finding_assay_scan_reports_is_stored(
    deployed: Deployed, registry: TlsRegistry, endpoints: Endpoints, image: str
) -> None:
    """Scenario 6: ``assay scan`` of the same digest with the engine's advisory database and
    settings reports exactly the findings the pipeline stored (SARIF carries every finding's id,
    suppressed ones too, but not the ImageScan summary)."""
    digest = deployed.digests[image]
    env = {k: v for k, v in deployed.engine_env.items() if not k.startswith(("ASSAY_KAFKA", "ASSAY_PG"))}
    ref = f"{registry.host}/{'shop/web' if image == 'web' else 'ops/agent'}@{digest}"
    sarif = json.loads(assay("scan", ref, "--format", "sarif", env=env))
    reported = [r["partialFingerprints"]["assayFinding/v1"] for r in sarif["runs"][0]["results"]]
    store = await Store.connect(endpoints.pg_dsn)
    try:
        rows = [f for f in await stored_findings(store.pool, digest) if f.category != "ImageScan"]
    finally:
        await store.close()
    stored = [f.finding_id for f in rows]
    assert len(reported) == len(set(reported))
    extra = [(f.category, f.id, f.package_name, f.path) for f in rows if f.finding_id not in set(reported)]
    missing = [
        r["ruleId"]
        for r in sarif["runs"][0]["results"]
        if r["partialFingerprints"]["assayFinding/v1"] not in set(stored)
    ]
    assert (extra, missing) == ([], [])
    assert sorted(stored) == sorted(reported)
    assert len(stored) > 10
