"""System-test fixtures: the real components that stand in for a cluster's endpoints.

An HTTPS ``docker-registry`` holding the fixture images, a broker and a database of each test's
own, the fake Kubernetes API server, and the advisory mirror (``../shared/vulndata``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.harness.broker import kafka_bootstrap
from tests.harness.fake_kube import FakeKube, fake_kube
from tests.harness.moto import MotoServer, moto_server
from tests.harness.postgres import fresh_database
from tests.harness.registry import push_image, require_tools
from tests.system.endpoints import API_TOKEN, API_TOKEN_SECRET, Endpoints
from tests.system.tls_registry import TlsRegistry, tls_registry

# (image under .fixtures/oci, repository:tag in the registry)
PUSHES = (
    ("debian", "shop/web:1.0"),
    ("debian", "shop/web:stable"),  # the same digest under a second tag
    ("alpine", "ops/agent:3.20"),
    ("alpine", "ops/agent:latest"),  # a second tag of the same digest
    ("corrupt-status", "batch/report:2"),  # only in a pod that is not running
)


@pytest.fixture(scope="session")
def registry(fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRegistry]:
    require_tools("docker-registry", "skopeo")
    with tls_registry(tmp_path_factory.mktemp("registry")) as server:
        for image, repo_tag in PUSHES:
            push_image(server.server, f"oci:{fixtures}/oci/{image}:latest", repo_tag)
        yield server


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of this module's own (the chart's consumer groups start from nothing)."""
    with kafka_bootstrap(tmp_path_factory.mktemp("broker")) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="module")
async def database(pg_server_dsn: str) -> AsyncIterator[str]:
    """An empty database of this module's own."""
    async with fresh_database(pg_server_dsn) as dsn:
        yield dsn


@pytest.fixture(scope="module")
async def kube() -> AsyncIterator[FakeKube]:
    async with fake_kube() as server:
        yield server


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """This module's AWS (moto): S3 for the object store, ECS for the inventory."""
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture(scope="module")
def endpoints(
    database: str,
    broker: str,
    kube: FakeKube,
    registry: TlsRegistry,
    vulndata: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Endpoints:
    """Where this module's deployment finds PostgreSQL, Kafka, the API server, registry and advisories."""
    return Endpoints(
        pg_dsn=database,
        kafka_bootstrap=broker,
        kubeconfig=str(kube.write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig")),
        ca_file=str(registry.ca_file),
        advisory_source=str(vulndata),
        # what the operator creates beside the chart (deploy/helm/assay/values.yaml: postgresql)
        secrets={("assay-postgres", "dsn"): database, API_TOKEN_SECRET: API_TOKEN},
    )
