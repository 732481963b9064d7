"""ECS inventory against moto: EC2 and Fargate tasks, digests from wherever they can be had, removals.

moto's ECS puts only the first container definition into a task and never sets ``imageDigest``
(a real ECS sets it once the image is pulled), so the digests here come from the image
reference (``repo@sha256:…``) or from resolving the tag on a real registry; a container with
neither is skipped. Fargate tasks need awsvpc networking: a VPC (with DNS hostnames on, else
moto 5.2.5's run_task fails with ``'NetworkInterface' object has no attribute 'private_dns_name'``)
and a subnet are made in moto's EC2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.events import ImageDiscovered, ImageRemoved
from services.common.aws import AwsClients
from services.inventory.aws import EcsPoller
from services.inventory.aws.ecs import ecs_sightings
from services.inventory.deltas import Deltas
from services.oci.registry import RegistryClient
from tests.harness.moto import ACCOUNT, REGION, MotoServer
from tests.harness.registry import manifest_descriptor, push_image, registry_server, require_tools

NGINX = "docker.io/library/nginx@sha256:" + "a" * 64
FARGATE_APP = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/team/app@sha256:" + "b" * 64
FARGATE_SPOT_APP = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/team/batch@sha256:" + "c" * 64


async def _task_definition(ecs: Any, family: str, image: str, *, fargate: bool = False) -> str:
    extra: dict[str, Any] = (
        {"networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"]} if fargate else {}
    )
    response = await ecs.register_task_definition(
        family=family,
        containerDefinitions=[{"name": family, "image": image, "memory": 128, "cpu": 64}],
        cpu="256",
        memory="512",
        **extra,
    )
    return str(response["taskDefinition"]["taskDefinitionArn"])


async def _setup(clients: AwsClients, local_image: str) -> dict[str, str]:
    ecs = await clients.client("ecs")
    ec2 = await clients.client("ec2")
    await ecs.create_cluster(clusterName="prod")
    await ecs.create_cluster(clusterName="serverless")
    # an EC2 container instance for the EC2 launch type
    ami = (await ec2.describe_images(Owners=["amazon"]))["Images"][0]["ImageId"]
    instance = (await ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1))["Instances"][0]
    await ecs.register_container_instance(
        cluster="prod", instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]})
    )
    vpc = (await ec2.create_vpc(CidrBlock="10.0.0.0/16"))["Vpc"]["VpcId"]
    await ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = (await ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24"))["Subnet"]["SubnetId"]
    group = (await ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc))["GroupId"]
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}}

    await ecs.run_task(
        cluster="prod", taskDefinition=await _task_definition(ecs, "web", NGINX), launchType="EC2"
    )
    await ecs.run_task(
        cluster="prod", taskDefinition=await _task_definition(ecs, "local", local_image), launchType="EC2"
    )
    await ecs.run_task(
        cluster="prod",
        # on the local registry but never pushed: no imageDigest, and the tag does not resolve
        taskDefinition=await _task_definition(
            ecs, "nodigest", f"{local_image.split('/')[0]}/fixture/missing:1.36"
        ),
        launchType="EC2",
    )
    fargate = await ecs.run_task(
        cluster="serverless",
        taskDefinition=await _task_definition(ecs, "app", FARGATE_APP, fargate=True),
        launchType="FARGATE",
        networkConfiguration=network,
        count=2,  # two tasks, one image: one sighting
    )
    await ecs.run_task(
        cluster="serverless",
        taskDefinition=await _task_definition(ecs, "batch", FARGATE_SPOT_APP, fargate=True),
        capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        networkConfiguration=network,
    )
    return {"fargate_task": fargate["tasks"][0]["taskArn"], "fargate_task2": fargate["tasks"][1]["taskArn"]}


async def test_ec2_and_fargate_tasks_are_inventoried_and_stopped_ones_removed(
    moto: MotoServer, aws_clients: AwsClients, tmp_path: Path, fixtures: Path
) -> None:
    require_tools("docker-registry", "skopeo")
    with registry_server(tmp_path / "reg") as reg:
        push_image(reg, f"oci:{fixtures}/oci/alpine:latest", "fixture/alpine:latest")
        local_digest, _, _ = manifest_descriptor(reg, "fixture/alpine", "latest")
        moto.freeze("ecs::task")
        tasks = await _setup(aws_clients, f"{reg.host}/fixture/alpine:latest")
        config = moto.aws_config(ecs=True)  # no clusters named: list_clusters finds both
        ecs = await aws_clients.client("ecs")
        deltas = Deltas()
        async with RegistryClient([reg.config()]) as client:
            poller = EcsPoller(aws_clients, config, client)
            found = await poller.poll()
            events = deltas.changes(found, full=True)

            assert found.environments == {"ecs:prod", "ecs:serverless"}
            assert not [e for e in events if isinstance(e, ImageRemoved)]
            got = sorted(
                (
                    e.environment,
                    e.registry,
                    e.repository,
                    e.tag,
                    e.digest,
                    e.scannable,
                    e.workload_kind,
                    e.workload,
                )
                for e in events
                if isinstance(e, ImageDiscovered)
            )
            assert got == [
                ("ecs:prod", reg.host, "fixture/alpine", "latest", local_digest, True, "TaskFamily", "local"),
                (
                    "ecs:prod",
                    "docker.io",
                    "library/nginx",
                    "",
                    "sha256:" + "a" * 64,
                    True,
                    "TaskFamily",
                    "web",
                ),
                (
                    "ecs:serverless",
                    f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
                    "team/app",
                    "",
                    "sha256:" + "b" * 64,
                    False,
                    "TaskFamily",
                    "app",
                ),
                (
                    "ecs:serverless",
                    f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
                    "team/batch",
                    "",
                    "sha256:" + "c" * 64,
                    False,
                    "TaskFamily",
                    "batch",
                ),
            ]  # fixture/missing:1.36 has no imageDigest and its tag does not resolve: skipped

            # one of the two Fargate tasks stops: the image is still running, nothing changed
            await ecs.stop_task(cluster="serverless", task=tasks["fargate_task"])
            assert deltas.changes(await poller.poll()) == []
            # the second stops too: the image is gone from that cluster, and nothing else changed
            await ecs.stop_task(cluster="serverless", task=tasks["fargate_task2"])
            events = deltas.changes(await poller.poll())
    assert [(type(r).__name__, r.environment, r.repository, r.digest) for r in events] == [
        ("ImageRemoved", "ecs:serverless", "team/app", "sha256:" + "b" * 64)
    ]


async def test_named_clusters_only_and_an_unknown_cluster_is_skipped(
    moto: MotoServer, aws_clients: AwsClients
) -> None:
    moto.freeze("ecs::task")
    ecs = await aws_clients.client("ecs")
    await ecs.create_cluster(clusterName="one")
    await ecs.create_cluster(clusterName="two")
    ec2 = await aws_clients.client("ec2")
    ami = (await ec2.describe_images(Owners=["amazon"]))["Images"][0]["ImageId"]
    for name in ("one", "two"):
        instance = (await ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1))["Instances"][0]
        await ecs.register_container_instance(
            cluster=name, instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]})
        )
        await ecs.run_task(
            cluster=name, taskDefinition=await _task_definition(ecs, name, NGINX), launchType="EC2"
        )
    polled: set[str] = set()
    config = moto.aws_config(ecs=True, ecs_clusters=["two", "does-not-exist"])
    found = [e async for e in ecs_sightings(ecs, config, polled=polled)]
    assert [(e.environment, e.workload) for e in found] == [("ecs:two", "two")]
    assert polled == {"ecs:two"}  # the missing cluster is not reported as polled: nothing is removed
