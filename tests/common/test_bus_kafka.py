"""KafkaBus against a real broker (embedded Tansu unless ASSAY_KAFKA_BOOTSTRAP is set)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.common.bus.interface import Message
from services.common.bus.kafka import KafkaBus, KafkaConsumer
from services.common.errors import BusError
from tests.harness.broker import unique_name


@pytest.fixture
async def kafka_bus(kafka_servers: str) -> AsyncIterator[KafkaBus]:
    bus = KafkaBus(kafka_servers, session_timeout_ms=6000)
    await bus.start()
    yield bus
    await bus.stop()


async def collect(consumer: KafkaConsumer, count: int, *, timeout_s: float = 30) -> list[Message]:
    """Fetch until ``count`` records arrived (the first fetches also complete the group join)."""
    got: list[Message] = []
    async with asyncio.timeout(timeout_s):
        while len(got) < count:
            got.extend(await consumer.fetch(max_records=100, timeout_s=0.5))
    return got


async def quiet(consumer: KafkaConsumer, seconds: float = 1.5) -> list[Message]:
    """Whatever arrives within ``seconds`` (to prove nothing more is delivered)."""
    got: list[Message] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        got.extend(await consumer.fetch(max_records=100, timeout_s=0.3))
    return got


async def test_publish_consume_commit_and_resume(kafka_bus: KafkaBus) -> None:
    topic, group = unique_name("t"), unique_name("g")
    await kafka_bus.ensure_topics([topic], partitions=4)
    await kafka_bus.ensure_topics([topic], partitions=4)  # idempotent
    for i in range(10):
        await kafka_bus.publish(topic, f"key-{i}", f"value-{i}".encode(), [("traceparent", b"x")])

    first = kafka_bus.consumer(group, [topic])
    await first.start()
    got = await collect(first, 10)
    assert sorted(m.value for m in got) == sorted(f"value-{i}".encode() for i in range(10))
    sample = next(m for m in got if m.value == b"value-3")
    assert sample.key == b"key-3"
    assert sample.headers == (("traceparent", b"x"),)
    await first.commit(got)
    await first.stop()

    for i in range(10, 13):
        await kafka_bus.publish(topic, f"key-{i}", f"value-{i}".encode())
    second = kafka_bus.consumer(group, [topic])
    await second.start()
    try:
        resumed = await collect(second, 3)
        resumed += await quiet(second)
        assert sorted(m.value for m in resumed) == [b"value-10", b"value-11", b"value-12"]
    finally:
        await second.stop()


async def test_uncommitted_records_are_delivered_again(kafka_bus: KafkaBus) -> None:
    topic, group = unique_name("t"), unique_name("g")
    await kafka_bus.ensure_topics([topic], partitions=2)
    for i in range(4):
        await kafka_bus.publish(topic, "one-key", f"{i}".encode())
    first = kafka_bus.consumer(group, [topic])
    await first.start()
    got = await collect(first, 4)
    assert [m.value for m in got] == [b"0", b"1", b"2", b"3"]  # one key: one partition, in order
    await first.commit(got[:2])
    await first.stop()

    second = kafka_bus.consumer(group, [topic])
    await second.start()
    try:
        again = await collect(second, 2)
        again += await quiet(second, 1.0)
        assert [m.value for m in again] == [b"2", b"3"]
    finally:
        await second.stop()


async def test_two_members_split_the_partitions(kafka_bus: KafkaBus) -> None:
    topic, group = unique_name("t"), unique_name("g")
    await kafka_bus.ensure_topics([topic], partitions=4)
    a, b = kafka_bus.consumer(group, [topic]), kafka_bus.consumer(group, [topic])
    await a.start()
    await b.start()
    try:
        # Both poll until the group settled with both members owning partitions.
        async with asyncio.timeout(60):
            while not (a.assignment() and b.assignment()):
                await asyncio.gather(
                    a.fetch(max_records=1, timeout_s=0.3), b.fetch(max_records=1, timeout_s=0.3)
                )
        assert a.assignment() | b.assignment() == {(topic, p) for p in range(4)}
        assert not a.assignment() & b.assignment()

        for i in range(40):
            await kafka_bus.publish(topic, f"key-{i}", f"{i}".encode())
        got_a: list[Message] = []
        got_b: list[Message] = []
        async with asyncio.timeout(30):
            while len(got_a) + len(got_b) < 40:
                batch_a, batch_b = await asyncio.gather(
                    a.fetch(max_records=100, timeout_s=0.3), b.fetch(max_records=100, timeout_s=0.3)
                )
                got_a += batch_a
                got_b += batch_b
        assert got_a
        assert got_b
        assert {m.partition for m in got_a}.isdisjoint({m.partition for m in got_b})
        assert sorted(int(m.value) for m in got_a + got_b) == list(range(40))
    finally:
        await a.stop()
        await b.stop()


async def test_unreachable_broker_is_a_bus_error() -> None:
    bus = KafkaBus("127.0.0.1:1")
    with pytest.raises(BusError) as caught:
        await bus.start()
    assert caught.value.__cause__ is not None


async def test_publish_before_start_is_a_bus_error() -> None:
    with pytest.raises(BusError):
        await KafkaBus("127.0.0.1:1").publish("t", "k", b"v")
