"""The registry crawl publishes deltas: Debian's docker-registry (distribution 2.8), real pushes and deletes.

Distribution 2.8 deletes manifests by digest only (``DELETE /v2/<name>/manifests/<digest>``, with
``storage.delete.enabled``): every tag naming that digest goes with it, and the repository stays
in the catalog with ``"tags": null``. Both are what the crawl must read as "tags gone".
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.request
from pathlib import Path

import pytest

from schemas import Topics, decode_event
from schemas.events import ImageDiscovered, ImageRemoved
from services.common.bus.memory import MemoryBus
from services.common.inventory import BusPublisher
from services.inventory.crawler import RegistryCrawl
from services.inventory.polling import PollingSource
from services.oci.registry import RegistryClient
from tests.harness.registry import (
    RegistryServer,
    manifest_descriptor,
    push_image,
    registry_server,
    require_tools,
)

pytestmark = pytest.mark.realworld


def delete_manifest(reg: RegistryServer, repository: str, digest: str) -> None:
    request = urllib.request.Request(f"{reg.url}/v2/{repository}/manifests/{digest}", method="DELETE")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


class Published:
    """What the crawl put on the (in-memory) inventory topic, pass by pass."""

    def __init__(self, bus: MemoryBus) -> None:
        self.bus = bus
        self.seen: set[tuple[int, int]] = set()  # (partition, offset)

    def new(self) -> list[tuple[str, str, str, str]]:
        """(kind, repository, tag, digest) of the records since the last call, sorted."""
        out = []
        for m in self.bus.records(Topics.INVENTORY):
            if (m.partition, m.offset) in self.seen:
                continue
            self.seen.add((m.partition, m.offset))
            e = decode_event(m.topic, m.value)
            assert isinstance(e, ImageDiscovered | ImageRemoved)
            out.append((type(e).__name__, e.repository, getattr(e, "tag", ""), e.digest))
        return sorted(out)


async def test_a_recrawl_publishes_new_moved_and_deleted_tags_only(fixtures: Path, tmp_path: Path) -> None:
    require_tools("docker-registry", "skopeo")
    with registry_server(tmp_path / "reg") as reg:
        push_image(reg, f"oci:{fixtures}/oci/alpine:latest", "team/app:1.0")
        push_image(reg, f"oci:{fixtures}/oci/alpine:latest", "team/app:latest")
        push_image(reg, f"oci:{fixtures}/oci/corrupt-status:latest", "team/db:1")
        alpine, _, _ = manifest_descriptor(reg, "team/app", "1.0")
        other, _, _ = manifest_descriptor(reg, "team/db", "1")
        bus = MemoryBus()
        await bus.start()
        published = Published(bus)
        async with RegistryClient([reg.config()]) as client:
            crawl = PollingSource(RegistryCrawl(client, [reg.config()]), interval_s=60, full_interval_s=3600)

            async def crawl_pass() -> int:
                return await crawl.pass_once(BusPublisher(bus))

            await crawl_pass()
            assert published.new() == [
                ("ImageDiscovered", "team/app", "1.0", alpine),
                ("ImageDiscovered", "team/app", "latest", alpine),
                ("ImageDiscovered", "team/db", "1", other),
            ]
            assert await crawl_pass() == 0  # nothing changed: nothing published

            # latest moves to another image: alpine keeps 1.0, so its link is renewed with that tag
            await asyncio.to_thread(
                push_image, reg, f"oci:{fixtures}/oci/corrupt-status:latest", "team/app:latest"
            )
            await crawl_pass()
            assert published.new() == [
                ("ImageDiscovered", "team/app", "1.0", alpine),
                ("ImageDiscovered", "team/app", "latest", other),
                ("ImageRemoved", "team/app", "", alpine),
            ]

            # alpine's manifest is deleted, and with it tag 1.0; team/db loses its only tag ("tags": null)
            delete_manifest(reg, "team/app", alpine)
            delete_manifest(reg, "team/db", other)
            await crawl_pass()
            assert published.new() == [
                ("ImageRemoved", "team/app", "", alpine),
                ("ImageRemoved", "team/db", "", other),
            ]
            assert await crawl_pass() == 0
        await bus.stop()


async def test_an_unreachable_registry_removes_nothing(fixtures: Path, tmp_path: Path) -> None:
    require_tools("docker-registry", "skopeo")
    bus = MemoryBus()
    await bus.start()
    published = Published(bus)
    with contextlib.ExitStack() as stack:
        reg = stack.enter_context(registry_server(tmp_path / "reg"))
        push_image(reg, f"oci:{fixtures}/oci/alpine:latest", "team/app:1.0")
        async with RegistryClient([reg.config()]) as client:
            crawl = PollingSource(RegistryCrawl(client, [reg.config()]), interval_s=60, full_interval_s=3600)
            await crawl.pass_once(BusPublisher(bus))
            assert [kind for kind, *_ in published.new()] == ["ImageDiscovered"]
            stack.close()  # the registry stops: its catalog cannot be listed, which is not "all tags deleted"
            assert await crawl.pass_once(BusPublisher(bus)) == 0
    assert published.new() == []
    await bus.stop()
