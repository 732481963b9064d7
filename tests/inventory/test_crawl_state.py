"""The last crawl survives a restart: a tag deleted while inventory is down is unlinked on its next pass.

Real components: Debian's ``docker-registry`` (distribution 2.8, ``storage.delete.enabled``), real
pushes and a real manifest DELETE, PostgreSQL (embedded, or ``ASSAY_PG_DSN``), and inventory's own
service entry (``run_inventory`` in one-pass mode) started twice, as two processes would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from schemas.events import ImageDiscovered
from services.common.bus.memory import MemoryBus
from services.common.store.postgres import Store
from services.inventory.crawlstate import CrawlState
from services.inventory.service import run_inventory
from services.settings import load_settings
from tests.harness.registry import (
    RegistryServer,
    manifest_descriptor,
    push_image,
    registry_server,
    require_tools,
)
from tests.inventory.test_crawl import Published, delete_manifest


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    store = await Store.connect(pg_dsn)
    yield store
    await store.close()


async def inventory_pass(reg: RegistryServer, pg_dsn: str, bus: MemoryBus, tmp_path: Path) -> None:
    """One run of ``assay service inventory --once``: a new process each time, nothing kept in memory."""
    settings = load_settings(
        environ={},
        overrides={"data": {"dir": str(tmp_path)}, "pg": {"dsn": pg_dsn}, "registries": [reg.config()]},
    )
    await run_inventory(settings, bus, asyncio.Event(), once=True)


@pytest.mark.realworld
async def test_a_tag_deleted_while_inventory_is_down_is_unlinked(
    fixtures: Path, tmp_path: Path, pg_dsn: str, store: Store
) -> None:
    require_tools("docker-registry", "skopeo")
    with registry_server(tmp_path / "reg") as reg:
        push_image(reg, f"oci:{fixtures}/oci/alpine:latest", "team/app:1.0")
        push_image(reg, f"oci:{fixtures}/oci/corrupt-status:latest", "team/db:1")
        alpine, _, _ = manifest_descriptor(reg, "team/app", "1.0")
        other, _, _ = manifest_descriptor(reg, "team/db", "1")
        bus = MemoryBus()
        await bus.start()
        published = Published(bus)

        await inventory_pass(reg, pg_dsn, bus, tmp_path)
        assert published.new() == [
            ("ImageDiscovered", "team/app", "1.0", alpine),
            ("ImageDiscovered", "team/db", "1", other),
        ]
        rows = await store.pool.fetch(
            "SELECT repository, tag, digest FROM crawl_state WHERE source = 'registry crawl' ORDER BY 1"
        )
        assert [tuple(r) for r in rows] == [("team/app", "1.0", alpine), ("team/db", "1", other)]

        # inventory is down; team/db's only tag goes meanwhile
        delete_manifest(reg, "team/db", other)

        await inventory_pass(reg, pg_dsn, bus, tmp_path)  # a new process: its first pass is a full one
        assert published.new() == [
            ("ImageDiscovered", "team/app", "1.0", alpine),
            ("ImageRemoved", "team/db", "", other),
        ]
        rows = await store.pool.fetch("SELECT repository FROM crawl_state WHERE source = 'registry crawl'")
        assert [r["repository"] for r in rows] == ["team/app"]

        await inventory_pass(reg, pg_dsn, bus, tmp_path)  # nothing was deleted since: nothing removed
        assert [kind for kind, *_ in published.new()] == ["ImageDiscovered"]
        await bus.stop()


async def test_a_sighting_kept_from_an_incomplete_pass_keeps_its_last_seen(store: Store) -> None:
    state = CrawlState(store.pool)

    def seen(repo: str, tag: str) -> ImageDiscovered:
        digest = "sha256:" + f"{len(repo + tag):02x}" * 32
        return ImageDiscovered(
            environment="registry:r.example", registry="r.example", repository=repo, tag=tag, digest=digest
        )

    a, b = seen("team/a", "1"), seen("team/b", "2")
    await state.save("registry crawl", [a, b], [a, b])
    before = dict(await store.pool.fetch("SELECT repository, last_seen FROM crawl_state"))
    await asyncio.sleep(0.01)
    # team/b could not be listed: the pass keeps it (it is not "deleted") but did not see it
    await state.save("registry crawl", [a, b], [a])
    after = dict(await store.pool.fetch("SELECT repository, last_seen FROM crawl_state"))
    assert after["team/a"] > before["team/a"]
    assert after["team/b"] == before["team/b"]
    assert await state.load("registry crawl") == [a, b]
    assert await state.load("ecr") == []  # each source has its own pass
    await state.save("registry crawl", [b], [b])
    assert await state.load("registry crawl") == [b]
