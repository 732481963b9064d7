"""Registry <-> cluster links in a real PostgreSQL: link, unlink, the last-link rule, scan sites."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.common.store import Store, links
from tests.harness.seed import sight


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


async def test_link_is_idempotent_and_listed_with_sighted_registries(store: Store) -> None:
    assert await links.link(store, "registry:reg.example.com:5000", "prod-eu") is True
    assert await links.link(store, "reg.example.com:5000", "cluster:prod-eu") is False
    assert await links.link(store, "reg.example.com:5000", "prod-us") is True
    # a registry seen by inventory but never linked is listed with no clusters (any engine)
    await sight(
        store,
        digest="sha256:" + "a" * 64,
        image_ref="ghcr.io/team/app@sha256:" + "a" * 64,
        environment="registry:ghcr.io",
        repository="team/app",
        tag="1.0",
    )
    assert await links.registries(store) == {
        "ghcr.io": [],
        "reg.example.com:5000": ["prod-eu", "prod-us"],
    }


async def test_unlink_refuses_the_last_link_and_missing_links(store: Store) -> None:
    await links.link(store, "reg.example.com", "a")
    await links.link(store, "reg.example.com", "b")
    with pytest.raises(links.LinkNotFoundError):
        await links.unlink(store, "reg.example.com", "c")
    await links.unlink(store, "reg.example.com", "a")
    with pytest.raises(links.LastLinkError, match="last link"):
        await links.unlink(store, "reg.example.com", "b")
    assert await links.registries(store) == {"reg.example.com": ["b"]}


async def test_concurrent_unlinks_never_remove_every_link(store: Store) -> None:
    """Unlinks of every link at once, on separate connections: exactly one link survives."""
    clusters = [f"c{i}" for i in range(8)]
    for trial in range(5):
        host = f"race{trial}.example.com"
        for c in clusters:
            await links.link(store, host, c)
        results = await asyncio.gather(
            *(links.unlink(store, host, c) for c in clusters), return_exceptions=True
        )
        refused = [r for r in results if isinstance(r, links.LastLinkError)]
        assert [r for r in results if r is not None and not isinstance(r, links.LastLinkError)] == []
        assert len(refused) == 1
        left = (await links.registries(store))[host]
        assert len(left) == 1


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "registry:", "-lead"])
async def test_bad_names_are_refused_with_the_name(store: Store, bad: str) -> None:
    with pytest.raises(links.LinkError, match="registry"):
        await links.link(store, bad, "prod")


async def test_scan_sites_routes_registries_to_their_clusters(store: Store) -> None:
    await links.link(store, "reg.example.com", "prod-eu")
    await links.link(store, "reg.example.com", "prod-us")
    await links.link(store, "other.example.com", "dev")
    sites = await links.scan_sites_many(
        store,
        [
            ["registry:reg.example.com"],
            ["cluster:edge", "registry:other.example.com"],
            # unlinked registries and other environments put no constraint: any engine
            ["registry:unlinked.example.com", "ecr:123"],
            [],
        ],
    )
    assert sites == [["prod-eu", "prod-us"], ["dev", "edge"], [], []]
