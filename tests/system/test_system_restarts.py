"""Scenario 4, the infrastructure faults: the broker and PostgreSQL restart mid-work.

The default install (``k8s/`` as rendered) runs against a broker and a PostgreSQL of this module's
own that can restart on the same address, as a cluster's would: Tansu keeping its topics and
consumer offsets in S3 (moto) instead of memory, and an embedded PostgreSQL on a fixed port. The
broker is stopped while an engine scans the Debian image and started again seconds later; then,
with a second wave of pods arriving, PostgreSQL is stopped (fast shutdown: every session cut) while
an engine scans the next image, and started again. No image is lost, no scan is applied twice, no
finding is published as new twice or missing from the store, and every workload ends up running:
it either carried on by itself or exited and was started again by the restart policy (the kubelet
events say which; docs/operations.md, Runbook, lists them per workload).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import botocore.session
import pytest

from services.common.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from tests.harness.fake_kube import FakeKube
from tests.harness.moto import REGION, MotoServer
from tests.system.cluster import pod
from tests.system.endpoints import Endpoints
from tests.system.kubelet import Kubelet, running_fleet
from tests.system.scenario import (
    assert_nothing_lost_or_doubled,
    counts,
    first_wave,
    until_logged,
    wait_for_images,
)
from tests.system.tls_registry import TlsRegistry
from tests.system.workloads import k8s_workloads

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(900)]

DOWN_S = 5.0  # how long each is away: long enough for every client to notice
BUCKET = "tansu"


@pytest.fixture(scope="module")
def durable_broker(aws: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """Tansu on a fixed port with its storage in moto's S3: a restart keeps topics and offsets."""
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    s3 = botocore.session.get_session().create_client(
        "s3", region_name=REGION, endpoint_url=aws.endpoint, **credentials
    )
    s3.create_bucket(Bucket=BUCKET)
    env = {
        "AWS_ENDPOINT": aws.endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    broker = EmbeddedBroker(
        tmp_path_factory.mktemp("broker"), storage=f"s3://{BUCKET}/", port=free_port(), env=env
    )
    with broker:
        yield broker


@pytest.fixture(scope="module")
def broker(durable_broker: EmbeddedBroker) -> str:
    return durable_broker.bootstrap


@pytest.fixture(scope="module")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL of this module's own on a fixed port, so that it can restart under the fleet."""
    with EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", port=free_port()) as server:
        yield server


@pytest.fixture(scope="module")
def database(own_postgres: EmbeddedPostgres) -> str:
    return own_postgres.dsn


async def _restart(stop: Callable[[], object], start: Callable[[], object], down_s: float = DOWN_S) -> None:
    """Stop, stay down ``down_s`` seconds, start again (each a blocking call, off the event loop)."""
    await asyncio.to_thread(stop)
    await asyncio.sleep(down_s)
    await asyncio.to_thread(start)


def _all_running(fleet: Kubelet) -> list[str]:
    """The containers that are not running now (a crash loop shows here)."""
    return [
        f"{p.name}/{name}"
        for p in fleet.pods
        for name, child in p.children.items()
        if name in {c.name for c in p.workload.containers} and not child.running
    ]


async def test_broker_and_postgres_restarts_lose_nothing_and_every_workload_recovers(
    registry: TlsRegistry,
    endpoints: Endpoints,
    kube: FakeKube,
    durable_broker: EmbeddedBroker,
    own_postgres: EmbeddedPostgres,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    host = registry.host
    web, agent, report = first_wave(kube, host)
    work = tmp_path_factory.mktemp("fleet")
    async with running_fleet(Kubelet(endpoints, work), k8s_workloads()) as fleet:
        await until_logged(fleet, "assay-engine", f"scanning {host}/shop/web")
        await _restart(durable_broker.stop, durable_broker.start)
        kube.add_pod(pod("batch", "report-1", image=f"{host}/batch/report:2", digest=report))
        await until_logged(fleet, "assay-engine", f"scanning {host}/batch/report")
        await _restart(own_postgres.stop, own_postgres.start)
        kube.add_pod(pod("ops", "agent-2", image=f"{host}/ops/agent:latest", digest=agent))
        images = await wait_for_images(endpoints.pg_dsn, fleet, 3)
        await asyncio.sleep(5)  # a workload in a crash loop would be down again by now
        down = _all_running(fleet)
        events = list(fleet.events)
    (work / "events.txt").write_text("\n".join(events) + "\n")  # the runbook's evidence
    assert {i["digest"]: i["status"] for i in images} == {web: "scanned", agent: "scanned", report: "scanned"}
    assert down == [], events

    # the broker keeps its log in S3: a new reader's first fetch takes seconds, hence the long quiet
    by_digest = await assert_nothing_lost_or_doubled(
        endpoints.kafka_bootstrap, endpoints.pg_dsn, (web, agent, report), quiet_s=15
    )
    assert {"CVE-2024-2398", "CVE-2023-5678"} <= {f.id for f in by_digest[web]}
    requested, _ = await counts(endpoints.kafka_bootstrap, fleet.shared("objects"), quiet_s=15)
    assert set(requested) == {web, agent, report}  # requests from before the broker restart kept
