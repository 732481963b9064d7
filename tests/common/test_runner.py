"""run_service on the memory bus: dead letters, publish-before-commit, stopping."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import msgspec
import pytest

from schemas import (
    DeadLetter,
    Event,
    ImageDiscovered,
    ScanRequested,
    Topics,
    decode_event,
    encode_event,
)
from services.common.bus.interface import Headers
from services.common.bus.memory import MemoryBus
from services.common.errors import BusError, StoreError
from services.common.runner import Handler, Outgoing, run_service
from services.common.telemetry import build_tracer_provider

# Records spans but exports nothing; the global provider (a no-op) would propagate no context.
PROVIDER = build_tracer_provider("test", "")


def discovered(digest: str) -> ImageDiscovered:
    return ImageDiscovered(
        environment="registry:127.0.0.1:5000", registry="127.0.0.1:5000", repository="app", digest=digest
    )


async def request_scan(event: Event) -> Sequence[Outgoing]:
    assert isinstance(event, ImageDiscovered)
    if event.repository == "boom":
        raise ValueError("handler bug")
    return [
        Outgoing(
            topic=Topics.SCAN_REQUESTS,
            key=event.digest,
            event=ScanRequested(scan_id=f"scan-{event.digest}", digest=event.digest, image_ref="ref"),
        )
    ]


async def run_until_idle(bus: MemoryBus, handler: Handler, *, group: str = "dedupe") -> None:
    """Run the loop until it has nothing left to do, then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_service(
            bus,
            service="dedupe",
            group=group,
            topics=[Topics.INVENTORY],
            handler=handler,
            stop=stop,
            idle_timeout_s=0.05,
            tracer_provider=PROVIDER,
        )
    )
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 5)


def dead_letters(bus: MemoryBus) -> list[DeadLetter]:
    letters = [decode_event(Topics.DLQ, m.value) for m in bus.records(Topics.DLQ)]
    assert all(isinstance(letter, DeadLetter) for letter in letters)
    return letters  # type: ignore[return-value]


async def test_outputs_are_published_and_inputs_committed(memory_bus: MemoryBus) -> None:
    for digest in ("sha256:a", "sha256:b"):
        await memory_bus.publish(Topics.INVENTORY, digest, encode_event(discovered(digest)))
    await run_until_idle(memory_bus, request_scan)
    out = [decode_event(Topics.SCAN_REQUESTS, m.value) for m in memory_bus.records(Topics.SCAN_REQUESTS)]
    assert sorted(e.digest for e in out if isinstance(e, ScanRequested)) == ["sha256:a", "sha256:b"]
    assert sum(memory_bus.committed("dedupe").values()) == 2
    # Each output carries a W3C trace context.
    assert all(
        any(k == "traceparent" for k, _ in m.headers) for m in memory_bus.records(Topics.SCAN_REQUESTS)
    )


async def test_undecodable_record_goes_to_the_dlq_and_the_loop_continues(memory_bus: MemoryBus) -> None:
    await memory_bus.ensure_topics([Topics.INVENTORY], partitions=1)
    await memory_bus.publish(Topics.INVENTORY, "bad", b"{not json")
    await memory_bus.publish(
        Topics.INVENTORY, "wrong-type", msgspec.json.encode({"type": "image.discovered"})
    )
    await memory_bus.publish(Topics.INVENTORY, "sha256:c", encode_event(discovered("sha256:c")))
    await run_until_idle(memory_bus, request_scan)

    letters = sorted(dead_letters(memory_bus), key=lambda d: d.offset)
    assert [(d.key, d.offset, d.topic, d.service) for d in letters] == [
        ("bad", 0, Topics.INVENTORY, "dedupe"),
        ("wrong-type", 1, Topics.INVENTORY, "dedupe"),
    ]
    assert letters[0].payload == b"{not json"
    assert letters[0].error.startswith("undecodable")
    assert len(memory_bus.records(Topics.SCAN_REQUESTS)) == 1
    assert memory_bus.committed("dedupe") == {(Topics.INVENTORY, 0): 3}


async def test_handler_exception_goes_to_the_dlq(memory_bus: MemoryBus) -> None:
    bad = ImageDiscovered(environment="e", registry="r", repository="boom", digest="sha256:d")
    await memory_bus.publish(Topics.INVENTORY, "sha256:d", encode_event(bad))
    await memory_bus.publish(Topics.INVENTORY, "sha256:e", encode_event(discovered("sha256:e")))
    await run_until_idle(memory_bus, request_scan)
    [letter] = dead_letters(memory_bus)
    assert letter.key == "sha256:d"
    assert letter.error == "ValueError: handler bug"
    assert decode_event(Topics.INVENTORY, letter.payload) == bad
    assert len(memory_bus.records(Topics.SCAN_REQUESTS)) == 1
    assert sum(memory_bus.committed("dedupe").values()) == 2


async def test_infrastructure_errors_stop_the_loop_uncommitted(memory_bus: MemoryBus) -> None:
    async def store_down(event: Event) -> Sequence[Outgoing]:
        raise StoreError("connection refused")

    await memory_bus.publish(Topics.INVENTORY, "sha256:f", encode_event(discovered("sha256:f")))
    with pytest.raises(StoreError):
        await run_until_idle(memory_bus, store_down)
    assert memory_bus.committed("dedupe") == {}
    assert memory_bus.records(Topics.DLQ) == []


class FlakyBus(MemoryBus):
    """Fails publishes to one topic while ``broken`` is set: a broker outage mid-batch."""

    broken = True

    async def publish(self, topic: str, key: str, value: bytes, headers: Headers = ()) -> None:
        if self.broken and topic == Topics.SCAN_REQUESTS:
            raise BusError("broker unreachable")
        await super().publish(topic, key, value, headers)


async def test_a_failed_publish_commits_nothing_and_the_restart_redelivers() -> None:
    bus = FlakyBus()
    await bus.start()
    seen: list[str] = []

    async def handler(event: Event) -> Sequence[Outgoing]:
        assert isinstance(event, ImageDiscovered)
        seen.append(event.digest)
        return await request_scan(event)

    await bus.publish(Topics.INVENTORY, "sha256:g", encode_event(discovered("sha256:g")))
    with pytest.raises(BusError):
        await run_until_idle(bus, handler)
    assert bus.committed("dedupe") == {}

    bus.broken = False  # the "restarted" service finds the broker back
    await run_until_idle(bus, handler)
    assert seen == ["sha256:g", "sha256:g"]
    assert len(bus.records(Topics.SCAN_REQUESTS)) == 1
    assert sum(bus.committed("dedupe").values()) == 1


async def test_stop_finishes_the_batch_in_flight(memory_bus: MemoryBus) -> None:
    await memory_bus.ensure_topics([Topics.INVENTORY], partitions=1)
    for i in range(3):
        await memory_bus.publish(Topics.INVENTORY, "k", encode_event(discovered(f"sha256:{i}")))
    stop = asyncio.Event()
    handled: list[str] = []

    async def stop_at_first(event: Event) -> Sequence[Outgoing]:
        assert isinstance(event, ImageDiscovered)
        handled.append(event.digest)
        stop.set()
        await asyncio.sleep(0)
        return []

    await asyncio.wait_for(
        run_service(
            memory_bus,
            service="dedupe",
            group="g",
            topics=[Topics.INVENTORY],
            handler=stop_at_first,
            stop=stop,
        ),
        5,
    )
    assert handled == ["sha256:0", "sha256:1", "sha256:2"]
    assert memory_bus.committed("g") == {(Topics.INVENTORY, 0): 3}


async def test_a_batch_handler_answers_per_event_and_on_published_runs_before_the_commit(
    memory_bus: MemoryBus,
) -> None:
    await memory_bus.ensure_topics([Topics.INVENTORY], partitions=1)
    await memory_bus.publish(Topics.INVENTORY, "bad", b"{not json")
    for digest, repo in (("sha256:e", "app"), ("sha256:f", "boom"), ("sha256:g", "app")):
        event = ImageDiscovered(environment="e", registry="r", repository=repo, digest=digest)
        await memory_bus.publish(Topics.INVENTORY, digest, encode_event(event))
    batches: list[list[str]] = []
    confirmed: list[tuple[list[str], dict[tuple[str, int], int]]] = []

    async def handle_batch(events: Sequence[Event]) -> list[Sequence[Outgoing] | Exception]:
        batches.append([e.digest for e in events if isinstance(e, ImageDiscovered)])
        results: list[Sequence[Outgoing] | Exception] = []
        for event in events:
            try:
                results.append(await request_scan(event))
            except ValueError as exc:
                results.append(exc)
        return results

    async def published(outgoing: Sequence[Outgoing]) -> None:
        confirmed.append(([o.key for o in outgoing], dict(memory_bus.committed("dedupe"))))

    stop = asyncio.Event()
    task = asyncio.create_task(
        run_service(
            memory_bus,
            service="dedupe",
            group="dedupe",
            topics=[Topics.INVENTORY],
            batch_handler=handle_batch,
            on_published=published,
            stop=stop,
            max_records=10,
            idle_timeout_s=0.05,
            tracer_provider=PROVIDER,
        )
    )
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert batches == [["sha256:e", "sha256:f", "sha256:g"]]  # one call for the fetched batch
    # the outputs were confirmed once, before any offset was committed
    assert confirmed == [(["sha256:e", "sha256:g"], {})]
    letters = sorted(dead_letters(memory_bus), key=lambda d: d.offset)
    assert [(d.key, d.error.split(":")[0]) for d in letters] == [
        ("bad", "undecodable"),
        ("sha256:f", "ValueError"),
    ]
    assert memory_bus.committed("dedupe") == {(Topics.INVENTORY, 0): 4}
    outputs = memory_bus.records(Topics.SCAN_REQUESTS)
    assert [m.key for m in outputs] == [b"sha256:e", b"sha256:g"]
    assert all(any(k == "traceparent" for k, _ in m.headers) for m in outputs)


async def test_a_failing_batch_handler_stops_the_loop_uncommitted(memory_bus: MemoryBus) -> None:
    await memory_bus.publish(Topics.INVENTORY, "sha256:h", encode_event(discovered("sha256:h")))

    async def down(events: Sequence[Event]) -> list[Sequence[Outgoing] | Exception]:
        raise StoreError("cannot reach PostgreSQL")

    with pytest.raises(StoreError):
        await asyncio.wait_for(
            run_service(
                memory_bus,
                service="dedupe",
                group="dedupe",
                topics=[Topics.INVENTORY],
                batch_handler=down,
                stop=asyncio.Event(),
                idle_timeout_s=0.05,
                tracer_provider=PROVIDER,
            ),
            5,
        )
    assert memory_bus.committed("dedupe") == {}
    assert memory_bus.records(Topics.DLQ) == []
