"""Fixtures for tests/common: real PostgreSQL and a real broker, embedded unless given."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.common.bus.memory import MemoryBus


@pytest.fixture
async def memory_bus() -> AsyncIterator[MemoryBus]:
    """A started in-memory bus with 4 partitions per topic."""
    bus = MemoryBus(partitions=4)
    await bus.start()
    yield bus
    await bus.stop()
