"""Registry notifications become inventory events: Debian's docker-registry configured to notify.

The registry is the real one (tests/harness/registry.py, with a ``notifications`` endpoint that
points at the receiver and carries its bearer token); pushes are real skopeo pushes and the delete
is the distribution API's manifest DELETE. Harbor and EventBridge cannot run here: their payloads
are built in the documented shapes of Harbor's *Default* webhook format and of EventBridge's
``ECR Image Action`` events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from schemas import Topics, decode_event
from schemas.events import ImageDiscovered, ImageRemoved, InventoryEvent
from services.common.bus.memory import MemoryBus
from services.common.errors import ConfigError
from services.common.inventory import BusPublisher
from services.inventory.webhooks.ecr import ecr_host, parse_ecr
from services.inventory.webhooks.harbor import parse_harbor
from services.inventory.webhooks.receiver import make_webhook_app
from services.settings import Settings, load_settings
from tests.harness.registry import free_port, manifest_descriptor, push_image, registry_server

TOKEN = "hook-token"
NOW = "2026-12-07T12:00:00Z"
DIGEST = "sha256:" + "cd" * 32


class Recorder(BusPublisher):
    """The receiver's publisher: the service's own, onto an in-memory bus; ``events`` reads it back."""

    def __init__(self) -> None:
        self.bus = MemoryBus()
        self._started = False
        super().__init__(self.bus)

    async def publish(self, event: InventoryEvent) -> None:
        if not self._started:  # the bus starts in the receiver's loop, on the first event
            await self.bus.start()
            self._started = True
        await super().publish(event)

    @property
    def events(self) -> list[tuple[str, InventoryEvent]]:
        """(key, event) of every record on the inventory topic (in order per key)."""
        found = [(m.key.decode(), decode_event(m.topic, m.value)) for m in self.bus.records(Topics.INVENTORY)]
        return [(key, e) for key, e in found if isinstance(e, ImageDiscovered | ImageRemoved)]


def _settings(*hosts: str, accounts: tuple[str, ...] = ()) -> Settings:
    return load_settings(
        {"ASSAY_WEBHOOKS_LISTEN": "127.0.0.1:0", "ASSAY_WEBHOOKS_TOKEN": TOKEN},
        overrides={
            "registries": [{"host": h, "insecure": True, "ou": "payments"} for h in hosts],
            "aws": {"ecr_registry_ids": list(accounts)},
        },
    )


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[TestClient, Recorder]]:
    recorder = Recorder()
    app = make_webhook_app(_settings("harbor.example.com"), recorder, lambda: NOW)
    async with TestClient(TestServer(app)) as client:
        yield client, recorder


async def _wait_for(recorder: Recorder, kind: type, digest: str) -> ImageDiscovered | ImageRemoved:
    for _ in range(300):
        for _, event in recorder.events:
            if isinstance(event, kind) and event.digest == digest:
                return event
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind.__name__} for {digest}; got {recorder.events}")


@pytest.mark.realworld
async def test_a_push_and_a_delete_in_a_real_registry_reach_inventory(fixtures: Path, tmp_path: Path) -> None:
    recorder = Recorder()
    # the receiver's port is chosen first: the registry's config names the URL it notifies
    port = free_port()
    hosts: list[str] = []

    def notify(host: str) -> tuple[str, str]:
        hosts.append(host)
        return f"http://127.0.0.1:{port}/hooks/distribution/{host}", TOKEN

    with contextlib.ExitStack() as stack:
        registry = stack.enter_context(registry_server(tmp_path / "registry", notify=notify))
        app = make_webhook_app(_settings(registry.host), recorder, lambda: NOW)
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server()
        try:
            push_image(registry, f"oci:{fixtures}/oci/alpine:latest", "team/app:1.0")
            digest, _, _ = manifest_descriptor(registry, "team/app", "1.0")
            seen = await _wait_for(recorder, ImageDiscovered, digest)
            assert isinstance(seen, ImageDiscovered)
            assert (seen.environment, seen.repository, seen.tag) == (
                f"registry:{registry.host}",
                "team/app",
                "1.0",
            )
            assert seen.ou == "payments"
            # layer and config blobs were pushed too: none of them became a sighting
            assert {e.digest for _, e in recorder.events} == {digest}
            request = urllib.request.Request(
                f"{registry.url}/v2/team/app/manifests/{digest}", method="DELETE"
            )
            await asyncio.to_thread(lambda: urllib.request.urlopen(request, timeout=10).close())
            removed = await _wait_for(recorder, ImageRemoved, digest)
            assert removed.environment == f"registry:{registry.host}"
        finally:
            stack.close()  # the registry first: its keep-alive connections to the receiver end with it
            # One turn of the loop accepts what the registry connected before it exited. On Python
            # 3.11 a connection accepted in the turn the server closes leaks its socket (the
            # transport's Server._attach asserts and nothing closes it).
            await asyncio.sleep(0.1)
            await server.close()
    assert hosts == [registry.host]
    assert all(key == event.digest for key, event in recorder.events)


async def test_senders_need_the_token_and_speak_only_for_configured_registries(
    receiver: tuple[TestClient, Recorder],
) -> None:
    client, recorder = receiver
    body = json.dumps({"events": []})
    assert (await client.post("/hooks/distribution/harbor.example.com", data=body)).status == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (
        await client.post("/hooks/distribution/harbor.example.com", data=body, headers=wrong)
    ).status == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    other = await client.post("/hooks/distribution/evil.example.com", data=body, headers=auth)
    assert other.status == 404
    garbage = await client.post("/hooks/distribution/harbor.example.com", data=b"{", headers=auth)
    assert garbage.status == 400
    assert "not a distribution notification" in (await garbage.json())["error"]
    assert recorder.events == []


async def test_harbor_webhooks_push_and_delete_artifacts(receiver: tuple[TestClient, Recorder]) -> None:
    client, recorder = receiver
    payload = {
        "type": "PUSH_ARTIFACT",
        "occur_at": 1765108800,
        "operator": "robot$ci",
        "event_data": {
            "resources": [
                {"digest": DIGEST, "tag": "v2", "resource_url": "harbor.example.com/library/app:v2"}
            ],
            "repository": {"name": "app", "namespace": "library", "repo_full_name": "library/app"},
        },
    }
    auth = {"Authorization": f"Bearer {TOKEN}"}
    resp = await client.post("/hooks/harbor/harbor.example.com", json=payload, headers=auth)
    assert resp.status == 200
    assert (await resp.json())["published"] == 1
    payload["type"] = "DELETE_ARTIFACT"
    assert (await client.post("/hooks/harbor/harbor.example.com", json=payload, headers=auth)).status == 200
    payload["type"] = "PULL_ARTIFACT"
    pulled = await client.post("/hooks/harbor/harbor.example.com", json=payload, headers=auth)
    assert (await pulled.json())["published"] == 0
    kinds = [(type(e).__name__, e.repository, e.digest) for _, e in recorder.events]
    assert kinds == [("ImageDiscovered", "library/app", DIGEST), ("ImageRemoved", "library/app", DIGEST)]


def test_harbor_payload_without_digests_is_skipped_not_guessed() -> None:
    body = json.dumps({"type": "PUSH_ARTIFACT", "event_data": {"resources": [{"tag": "v1"}]}}).encode()
    parsed = parse_harbor(body, "harbor.example.com", lambda: NOW)
    assert parsed.events == []
    assert parsed.skipped


def test_ecr_image_actions_from_eventbridge() -> None:
    event = {
        "version": "0",
        "id": "13cde686-328b-6117-af20-0e5566167482",
        "detail-type": "ECR Image Action",
        "source": "aws.ecr",
        "account": "123456789012",
        "time": "2026-12-07T12:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "result": "SUCCESS",
            "repository-name": "team/app",
            "image-digest": DIGEST,
            "action-type": "PUSH",
            "image-tag": "latest",
        },
    }
    parsed = parse_ecr(json.dumps(event).encode(), {"123456789012"}, lambda: NOW)
    assert len(parsed.events) == 1
    found = parsed.events[0]
    assert isinstance(found, ImageDiscovered)
    assert (
        found.registry
        == ecr_host("123456789012", "eu-west-1")
        == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    )
    assert (found.repository, found.tag) == ("team/app", "latest")
    event["detail"]["action-type"] = "DELETE"  # type: ignore[index]
    assert isinstance(
        parse_ecr(json.dumps(event).encode(), {"123456789012"}, lambda: NOW).events[0], ImageRemoved
    )
    # another account's events, and failed pushes, are not sightings
    assert parse_ecr(json.dumps(event).encode(), {"999999999999"}, lambda: NOW).events == []
    event["detail"]["result"] = "FAILURE"  # type: ignore[index]
    assert parse_ecr(json.dumps(event).encode(), {"123456789012"}, lambda: NOW).events == []


def test_listening_without_a_token_is_refused() -> None:
    settings = load_settings({"ASSAY_WEBHOOKS_LISTEN": "127.0.0.1:0"})
    with pytest.raises(ConfigError, match="ASSAY_WEBHOOKS_TOKEN"):
        make_webhook_app(settings, Recorder(), lambda: NOW)
