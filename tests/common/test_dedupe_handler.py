"""The dedupe handler against real PostgreSQL: one scan per digest, removals unlink environments."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from schemas.events import ImageDiscovered, ImageRemoved, ScanRequested
from services.common.store.postgres import Store
from services.dedupe.service import make_dedupe_handler


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


def _seen(env: str) -> ImageDiscovered:
    return ImageDiscovered(
        environment=env, registry="r.example", repository="team/app", digest="sha256:dd", tag="1"
    )


async def test_one_scan_request_per_digest_and_a_removal_unlinks_only_its_environment(store: Store) -> None:
    handle = make_dedupe_handler(store)
    first = await handle(_seen("cluster:a"))
    again = await handle(_seen("cluster:b"))
    assert [type(o.event) for o in first] == [ScanRequested]
    assert again == []
    assert await store.environments("sha256:dd") == ["cluster:a", "cluster:b"]
    removed = ImageRemoved(environment="cluster:a", digest="sha256:dd", repository="team/app")
    assert await handle(removed) == []
    assert await store.environments("sha256:dd") == ["cluster:b"]
    assert await handle(_seen("cluster:a")) == []  # seen again: linked again, no second scan
    assert await store.environments("sha256:dd") == ["cluster:a", "cluster:b"]
