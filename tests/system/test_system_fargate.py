"""Scenario 5 (Fargate): an image seen only in ECS Fargate tasks waits, then takes a scan from elsewhere.

The chart rendered with the inventory's ECS poll on (``inventory.ecs``, a short crawl interval),
its AWS being moto: a Fargate task (moto's ECS, awsvpc networking) runs the registry's Debian image
by digest. No node of ours can pull a Fargate task's image, so the sighting is recorded and never
requested: the image stays Pending Scan over several polls, and both ``assay rescan`` and the
API's ``POST /v1/images/{digest}/rescan`` refuse it with the note the console shows. Then a pod of
the watched cluster starts the same digest: that sighting can be pulled, the digest is scanned
once, and its findings hold for the Fargate environment too (findings are per digest).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import botocore.session
import pytest

from schemas.events import ImageDiscovered
from schemas.topics import Topics
from services.api.rescan import FARGATE_NOTE
from services.common.store.postgres import Store
from services.dedupe.store.states import image_states
from tests.harness.fake_kube import FakeKube
from tests.harness.moto import REGION, MotoServer
from tests.pipeline.harness import read_topic
from tests.system.cluster import pod, record_statuses, statuses_seen
from tests.system.endpoints import Endpoints
from tests.system.kubelet import Kubelet, running_fleet
from tests.system.scenario import api_call, api_get, assay, counts, registry_digest, wait_for_images
from tests.system.tls_registry import TlsRegistry
from tests.system.workloads import rendered_workloads

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(900)]

ECS_CLUSTER = "serverless"
VALUES = {"inventory": {"crawlIntervalSeconds": 2, "ecs": {"enabled": True, "clusters": [ECS_CLUSTER]}}}
POLLS = 3  # inventory passes the test waits for before it calls the image "staying" pending


def _run_fargate_task(aws: MotoServer, image: str) -> None:
    """A Fargate task running ``image`` in moto's ECS (awsvpc: a VPC with DNS hostnames, a subnet)."""
    session = botocore.session.get_session()
    kwargs = {
        "region_name": REGION,
        "endpoint_url": aws.endpoint,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    ecs, ec2 = session.create_client("ecs", **kwargs), session.create_client("ec2", **kwargs)
    aws.freeze("ecs::task")  # moto moves tasks on from RUNNING on each describe otherwise
    ecs.create_cluster(clusterName=ECS_CLUSTER)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
    definition = ecs.register_task_definition(
        family="shop-web",
        containerDefinitions=[{"name": "web", "image": image, "memory": 128, "cpu": 64}],
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.run_task(
        cluster=ECS_CLUSTER,
        taskDefinition=definition,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}},
    )


async def _fargate_polls(fleet: Kubelet, bootstrap: str, digest: str, limit_s: float = 300) -> None:
    """Until inventory has published a Fargate sighting of ``digest`` and polled ECS ``POLLS`` more
    times (each pass logs how many sightings it had)."""
    deadline = time.monotonic() + limit_s
    while True:
        events = await read_topic(bootstrap, Topics.INVENTORY, quiet_s=0.5)
        seen = [
            e
            for _, e in events
            if isinstance(e, ImageDiscovered) and e.digest == digest and e.environment == f"ecs:{ECS_CLUSTER}"
        ]
        assert all(not e.scannable for e in seen)
        if seen:
            break
        assert time.monotonic() < deadline, f"no Fargate sighting of {digest} after {limit_s}s"
        await asyncio.sleep(1.0)
    passes = fleet.logs("assay-inventory").count("sightings")
    while fleet.logs("assay-inventory").count("sightings") < passes + POLLS:
        assert time.monotonic() < deadline, f"inventory stopped polling: {fleet.events}"
        await asyncio.sleep(0.5)


async def _image(dsn: str, digest: str) -> dict[str, object]:
    store = await Store.connect(dsn)
    try:
        return next(i for i in await image_states(store.pool) if i["digest"] == digest)
    finally:
        await store.close()


def _rescan(digest: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "assay"), "rescan", digest],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_fargate_only_image_waits_then_takes_the_scan_of_a_pullable_sighting(
    registry: TlsRegistry,
    endpoints: Endpoints,
    kube: FakeKube,
    aws: MotoServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    host = registry.host
    web = registry_digest(host, "shop/web:1.0")
    _run_fargate_task(aws, f"{host}/shop/web@{web}")
    assay("registries", "link", host, "in-cluster", env={"ASSAY_PG_DSN": endpoints.pg_dsn})  # migrates too
    await record_statuses(endpoints.pg_dsn)
    deployment = Endpoints(**{**endpoints.__dict__, "aws_endpoint": aws.endpoint})
    workloads = rendered_workloads(VALUES, tmp_path_factory.mktemp("rendered"))
    async with running_fleet(Kubelet(deployment, tmp_path_factory.mktemp("fleet")), workloads) as fleet:
        await _fargate_polls(fleet, endpoints.kafka_bootstrap, web)
        await wait_for_images(endpoints.pg_dsn, fleet, 1, settled={"pending"})
        waiting = await _image(endpoints.pg_dsn, web)
        cli = fleet.env("assay-dedupe")  # the operator runs the CLI with the services' settings
        refused = await asyncio.to_thread(_rescan, web, cli)
        api = fleet.env("assay-api")["ASSAY_API_LISTEN"]
        api_waiting = await api_get(api, "/v1/images")
        api_refused = await api_call(api, "POST", f"/v1/images/{web}/rescan")
        requested_before, _ = await counts(endpoints.kafka_bootstrap, fleet.shared("objects"))

        # the same digest starts in a pod of the watched cluster: a sighting that can be pulled
        kube.add_pod(pod("shop", "web-1", image=f"{host}/shop/web:1.0", digest=web, deployment="web"))
        (scanned,) = await wait_for_images(endpoints.pg_dsn, fleet, 1)
        api_findings = await api_get(api, f"/v1/findings?digest={web}&limit=1000")
    requested, done = await counts(endpoints.kafka_bootstrap, fleet.shared("objects"))

    assert (waiting["status"], waiting["scannable"]) == ("pending", False)
    assert waiting["environments"] == [f"ecs:{ECS_CLUSTER}"]
    assert [(i["digest"], i["status"]) for i in api_waiting["items"]] == [(web, "pending")]
    assert requested_before == {}  # never requested while only Fargate ran it
    assert refused.returncode == 1, refused.stderr
    assert f"{web}: refused: {FARGATE_NOTE}" in refused.stderr
    assert api_refused[0] == 409
    assert FARGATE_NOTE in json.dumps(api_refused[1])
    assert "ECS Fargate" in FARGATE_NOTE

    assert scanned["status"] == "scanned"
    assert sorted(scanned["environments"]) == sorted([f"ecs:{ECS_CLUSTER}", "cluster:in-cluster"])
    assert (await statuses_seen(endpoints.pg_dsn))[web] == ["pending", "scanning", "scanned"]
    assert requested == {web: 1}  # one scan, by the pullable sighting
    assert done == {web: 1}
    cves = [f for f in api_findings["items"] if f["category"] == "CVE"]
    assert cves, "the scan's findings"
    for finding in api_findings["items"]:  # the Fargate workload is affected by what the scan found
        assert f"ecs:{ECS_CLUSTER}" in finding["environments"]
