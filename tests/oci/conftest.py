"""A real registry (Debian's ``docker-registry``) holding the small Alpine fixture, per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from tests.harness.registry import RegistryServer, push_image, registry_server, require_tools

BasicRegistry = Callable[[str, str], AbstractContextManager[RegistryServer]]


@pytest.fixture
def basic_registry(fixtures: Path, tmp_path: Path) -> BasicRegistry:
    """Start a Basic-auth registry for one user and password, with ``fixture/alpine:latest`` pushed."""
    require_tools("docker-registry", "htpasswd", "skopeo")

    @contextmanager
    def start(username: str, password: str) -> Iterator[RegistryServer]:
        work = tmp_path / f"registry-{len(list(tmp_path.iterdir()))}"
        with registry_server(work, "basic", username=username, password=password) as server:
            push_image(server, f"docker-archive:{fixtures / 'alpine-docker.tar'}", "fixture/alpine:latest")
            yield server

    return start
