"""Poison pills go to the DLQ and the service keeps consuming (issue 18, defect 5).

On a real broker (an embedded Tansu of the test's own) and on the memory bus:
an output that cannot be encoded (a non-UTF-8 file name carried as a surrogate escape) and a
claim-check reference that is not the topic's own used to stop the consumer uncommitted, so
the record came back for ever.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import pytest

from schemas import (
    DeadLetter,
    Event,
    ImageDiscovered,
    ScanFailed,
    ScanRequested,
    Topics,
    decode_event,
    encode_event,
)
from services.common.bus.claimcheck import PAYLOAD_REF_HEADER, ClaimCheck, claim_key
from services.common.bus.interface import Bus, Message
from services.common.bus.kafka import KafkaBus
from services.common.bus.memory import MemoryBus
from services.common.embedded import EmbeddedBroker
from services.common.objectstore import DirectoryObjectStore
from services.common.runner import Outgoing, run_service
from services.common.telemetry import build_tracer_provider
from tests.harness.broker import unique_name

PROVIDER = build_tracer_provider("test", "")
BAD_NAME = b"/etc/\xff\xfe.conf".decode("utf-8", "surrogateescape")  # as os.fsdecode gives it


def discovered(repository: str, digest: str) -> ImageDiscovered:
    return ImageDiscovered(environment="registry:r", registry="r", repository=repository, digest=digest)


async def scan_or_fail(event: Event) -> Sequence[Outgoing]:
    """Answers each image with a request and, for repository ``bad``, a failure naming a bad file."""
    assert isinstance(event, ImageDiscovered)
    requested = ScanRequested(scan_id=f"s-{event.digest}", digest=event.digest, image_ref=event.repository)
    out = [Outgoing(Topics.SCAN_REQUESTS, event.digest, requested)]
    if event.repository == "bad":
        failed = ScanFailed(scan_id="s", digest=event.digest, image_ref="r", error=f"cannot read {BAD_NAME}")
        out.append(Outgoing(Topics.DETECTIONS, event.digest, failed))
    return out


async def run_until(bus: Bus, topic: str, until: Callable[[], Awaitable[bool]], *, group: str) -> None:
    """Run the service until ``until()`` holds (at most a minute); its death fails the test."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_service(
            bus,
            service="dedupe",
            group=group,
            topics=[topic],
            handler=scan_or_fail,
            stop=stop,
            idle_timeout_s=0.1,
            tracer_provider=PROVIDER,
        )
    )
    try:
        for _ in range(300):
            if task.done() or await until():
                break
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)  # re-raises if the service died
    assert await until()


async def test_an_unencodable_output_is_dead_lettered_and_nothing_of_it_published() -> None:
    bus = MemoryBus(partitions=1)
    await bus.start()
    await bus.publish(Topics.INVENTORY, "sha256:1", encode_event(discovered("bad", "sha256:1")))
    await bus.publish(Topics.INVENTORY, "sha256:2", encode_event(discovered("good", "sha256:2")))

    async def committed() -> bool:
        return bool(bus.committed("g"))

    await run_until(bus, Topics.INVENTORY, committed, group="g")
    [letter] = [decode_event(Topics.DLQ, m.value) for m in bus.records(Topics.DLQ)]
    assert isinstance(letter, DeadLetter)
    assert letter.key == "sha256:1"
    assert letter.error.startswith("UnicodeEncodeError")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", letter.failed_at)  # the clock's format
    assert decode_event(Topics.INVENTORY, letter.payload) == discovered("bad", "sha256:1")
    # the bad record's request was not published alone: all of its outputs or none
    assert [m.key for m in bus.records(Topics.SCAN_REQUESTS)] == [b"sha256:2"]
    assert bus.committed("g") == {(Topics.INVENTORY, 0): 2}
    await bus.stop()


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[str]:
    """A broker of this test's own: its forged records must not reach other tests' readers."""
    with EmbeddedBroker(tmp_path / "broker") as broker:
        yield broker.bootstrap


async def test_on_the_broker_poison_pills_do_not_stop_the_consumer(
    private_broker: str, tmp_path: Path
) -> None:
    kafka_servers = private_broker
    topic = Topics.INVENTORY
    store = DirectoryObjectStore(tmp_path / "objects")
    other_payload = b"a payload of another topic"
    other_key = claim_key(Topics.DETECTIONS, other_payload)
    await store.put(other_key, other_payload)
    forged = encode_event(discovered("forged", "sha256:9"))
    await store.put(f"claims/{topic}/" + "0" * 64, forged)  # right shape, wrong content
    bus = KafkaBus(kafka_servers, claim_check=ClaimCheck(store, threshold=1 << 20))
    await bus.start()
    try:
        await bus.ensure_topics([topic, Topics.SCAN_REQUESTS, Topics.DETECTIONS, Topics.DLQ], partitions=1)
        start = {m.offset for m in await collect_all(bus, Topics.DLQ)}
        refs = [other_key, "../../etc/passwd", f"claims/{topic}/" + "0" * 64]
        for i, ref in enumerate(refs):
            await bus.publish(topic, f"forged-{i}", b"", [(PAYLOAD_REF_HEADER, ref.encode())])
        await bus.publish(topic, "sha256:1", encode_event(discovered("bad", "sha256:1")))
        await bus.publish(topic, "sha256:2", encode_event(discovered("good", "sha256:2")))

        async def good_one_handled() -> bool:
            return any(m.key == b"sha256:2" for m in await collect_all(bus, Topics.SCAN_REQUESTS))

        await run_until(bus, topic, good_one_handled, group=unique_name("dedupe"))
        letters = [m for m in await collect_all(bus, Topics.DLQ) if m.offset not in start]
    finally:
        await bus.stop()
    decoded = [decode_event(Topics.DLQ, m.value) for m in letters]
    by_key = {d.key: d for d in decoded if isinstance(d, DeadLetter)}
    assert {"forged-0", "forged-1", "forged-2", "sha256:1"} <= set(by_key)
    assert all(by_key[f"forged-{i}"].payload == b"" for i in range(3))  # nothing fetched was used
    assert by_key["sha256:1"].error.startswith("UnicodeEncodeError")
    assert hashlib.sha256(other_payload).hexdigest() in other_key


async def collect_all(bus: Bus, topic: str) -> list[Message]:
    """Every record on ``topic`` so far (a fresh group reading from the start)."""
    consumer = bus.consumer(unique_name("reader"), [topic])
    await consumer.start()
    got: list[Message] = []
    try:
        for _ in range(6):
            batch = await consumer.fetch(max_records=500, timeout_s=0.3)
            got += batch
            if not batch and got:
                break
    finally:
        await consumer.stop()
    return got


@pytest.mark.parametrize(
    ("ref", "fetched"),
    [
        (f"claims/{Topics.INVENTORY}/" + "a" * 64, True),
        (f"claims/{Topics.DETECTIONS}/" + "a" * 64, False),
        (f"claims/{Topics.INVENTORY}/../{Topics.DETECTIONS}/" + "a" * 64, False),
        (f"claims/{Topics.INVENTORY}/" + "A" * 64, False),
        ("inventories/sha256:abc", False),
    ],
)
async def test_only_the_topics_own_references_are_fetched(tmp_path: Path, ref: str, fetched: bool) -> None:
    class Recording(DirectoryObjectStore):
        asked: list[str] = []

        async def get(self, key: str) -> bytes | None:
            self.asked.append(key)
            return await super().get(key)

    store = Recording(tmp_path)
    message = Message(
        topic=Topics.INVENTORY,
        partition=0,
        offset=7,
        key=b"k",
        value=b"",
        headers=[(PAYLOAD_REF_HEADER, ref.encode())],
    )
    out = await ClaimCheck(store).incoming(message)
    assert out.value == b""
    assert store.asked == ([ref] if fetched else [])
