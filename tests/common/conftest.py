"""Fixtures for tests/common: real PostgreSQL and a real broker, embedded unless given."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from services.common.bus.memory import MemoryBus
from tests.harness.broker import kafka_bootstrap
from tests.harness.postgres import fresh_database, postgres_server


@pytest.fixture(scope="session")
def pg_server_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the session (``ASSAY_PG_DSN`` or embedded)."""
    with postgres_server(tmp_path_factory.mktemp("pg") / "data") as dsn:
        yield dsn


@pytest.fixture
async def pg_dsn(pg_server_dsn: str) -> AsyncIterator[str]:
    """An empty database of its own for one test."""
    async with fresh_database(pg_server_dsn) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def kafka_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker for the session (``ASSAY_KAFKA_BOOTSTRAP`` or embedded Tansu)."""
    with kafka_bootstrap(tmp_path_factory.mktemp("broker")) as bootstrap:
        yield bootstrap


@pytest.fixture
async def memory_bus() -> AsyncIterator[MemoryBus]:
    """A started in-memory bus with 4 partitions per topic."""
    bus = MemoryBus(partitions=4)
    await bus.start()
    yield bus
    await bus.stop()
