"""A remote cluster's agent, installed as ``assay environments add cluster edge-1 --agent`` prints.

The chart is rendered from the printed ``helm install`` line (agent mode) and its inventory workload
runs as its own process, configured exactly as the manifest says, with the printed Secrets (the
operator's CA file in place of ``CENTRAL_KAFKA_CA.pem``); only the endpoints are swapped
(``endpoints.py``). Its cluster is the fake Kubernetes API server, and the central Kafka is Tansu
behind ``tests/harness/kafka_front.py``: a faithful fake of a Kafka listener with TLS and SASL
(SCRAM-SHA-512 in the real wire format) whose agent user may not create topics, as the printed ACL
allows only Write on ``assay.inventory.v1``. The central side created that topic beforehand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from schemas import decode_event
from schemas.events import ImageDiscovered
from schemas.topics import Topics
from services.common.bus.kafka import KafkaBus
from services.common.config import KafkaSettings, kafka_security
from services.inventory.onboarding import agent_instructions
from services.inventory.store import Environment
from tests.deploy.agent_install import helm_values, printed_secrets
from tests.harness.broker import unique_name
from tests.harness.fake_kube import FakeKube
from tests.harness.kafka_front import Front, kafka_front
from tests.system.cluster import pod
from tests.system.endpoints import Endpoints
from tests.system.kubelet import Kubelet, running_fleet
from tests.system.workloads import rendered_workloads

pytestmark = [pytest.mark.pipeline, pytest.mark.timeout(300)]

CENTRAL = ("assay", "central-s3cret")  # the central pipeline's own Kafka user
AGENT_PASSWORD = "generated-once-by-the-cli"
DIGEST = "sha256:" + "5e" * 32


@pytest.fixture(scope="module")
def central_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    users = {CENTRAL[0]: CENTRAL[1], "assay-agent-edge-1": AGENT_PASSWORD}
    with kafka_front(
        tmp_path_factory.mktemp("central"), users=users, no_create=("assay-agent-edge-1",)
    ) as front:
        yield front


def _central_bus(front: Front) -> KafkaBus:
    assert front.pki is not None
    kafka = KafkaSettings(
        bootstrap=front.bootstrap,
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username=CENTRAL[0],
        sasl_password=CENTRAL[1],
        ssl_cafile=str(front.pki.ca),
    )
    return KafkaBus(front.bootstrap, client_id="central", security=kafka_security(kafka))


async def _sightings(bus: KafkaBus, environment: str, limit_s: float = 120) -> list[ImageDiscovered]:
    """The ImageDiscovered events of ``environment`` on the central inventory topic, once any arrive."""
    consumer = bus.consumer(unique_name("central-dedupe"), [Topics.INVENTORY])
    await consumer.start()
    deadline = time.monotonic() + limit_s
    try:
        while time.monotonic() < deadline:
            events = [
                decode_event(Topics.INVENTORY, m.value)
                for m in await consumer.fetch(max_records=100, timeout_s=1)
            ]
            found = [e for e in events if isinstance(e, ImageDiscovered) and e.environment == environment]
            if found:
                return found
            await asyncio.sleep(0.2)
    finally:
        await consumer.stop()
    raise AssertionError(f"no sighting of {environment} within {limit_s}s")


async def test_the_agent_inventory_publishes_its_cluster_to_the_central_kafka(
    central_kafka: Front, kube: FakeKube, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert central_kafka.pki is not None
    central = _central_bus(central_kafka)
    await central.start()
    await central.ensure_topics([Topics.INVENTORY])  # the central install's topics exist first

    env = Environment(kind="cluster", name="edge-1", mode="agent", ou="retail")
    lines = agent_instructions(env, central_kafka.bootstrap, AGENT_PASSWORD, "scram")
    secrets = printed_secrets(lines, "assay")
    assert secrets[("assay-kafka-ca", "ca.crt")] == "CENTRAL_KAFKA_CA.pem"
    secrets[("assay-kafka-ca", "ca.crt")] = central_kafka.pki.ca.read_text()  # the operator's file
    workloads = rendered_workloads(helm_values(lines), tmp_path_factory.mktemp("agent-chart"))
    assert {w.name for w in workloads} == {"assay-inventory", "assay-node"}
    inventory = [
        w for w in workloads if w.name == "assay-inventory"
    ]  # no containerd here for the node daemon

    kube.add_pod(
        pod("shop", "web-1", image="registry.edge.example/shop/web:1.0", digest=DIGEST, deployment="web")
    )
    endpoints = Endpoints(
        pg_dsn="",  # an agent has no database
        kafka_bootstrap=central_kafka.bootstrap,
        kubeconfig=str(kube.write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig")),
        secrets=secrets,
    )
    try:
        async with running_fleet(Kubelet(endpoints, tmp_path_factory.mktemp("edge")), inventory) as fleet:
            seen = await _sightings(central, "cluster:edge-1")
            agent_env = fleet.env("assay-inventory")
    finally:
        await central.stop()

    assert {(e.digest, e.ou) for e in seen} == {(DIGEST, "retail")}
    assert agent_env["ASSAY_KAFKA_SASL_USERNAME"] == "assay-agent-edge-1"
    assert agent_env["ASSAY_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert "assay-agent-edge-1" in central_kafka.principals  # it authenticated as its own user
    assert not [
        r for r in central_kafka.refused if r.startswith("assay-agent-edge-1")
    ]  # asked for nothing more
