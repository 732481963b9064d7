"""Pipeline fixtures: a real registry holding the fixture images, a broker and a database per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.broker import kafka_bootstrap
from tests.harness.registry import RegistryServer, push_image, registry_server, require_tools

# (source image under .fixtures/oci, repository:tag in the registry)
PUSHES = (
    ("debian", "fixture/debian:latest"),
    ("debian", "fixture/debian:stable"),  # the same digest under a second tag
    ("alpine", "fixture/alpine:3.20"),
    ("corrupt-status", "fixture/corrupt:latest"),
    ("broken-gzip", "fixture/broken:latest"),
)


@pytest.fixture(scope="module")
def registry(fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """An anonymous docker-registry on loopback holding four images under five tags."""
    require_tools("docker-registry", "skopeo")
    with registry_server(tmp_path_factory.mktemp("registry"), "anonymous") as server:
        for image, repo_tag in PUSHES:
            push_image(server, f"oci:{fixtures}/oci/{image}:latest", repo_tag)
        yield server


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    """A broker of this test's own (topics start empty), unless ASSAY_KAFKA_BOOTSTRAP is set."""
    with kafka_bootstrap(tmp_path / "broker") as bootstrap:
        yield bootstrap
