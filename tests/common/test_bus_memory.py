"""MemoryBus: partitioning, consumer groups, committed offsets, waiting fetches."""

from __future__ import annotations

import asyncio

import pytest

from services.common.bus.interface import Message
from services.common.bus.memory import MemoryBus, MemoryConsumer, partition_for
from services.common.errors import BusError


async def drain(consumer: MemoryConsumer, *, timeout_s: float = 0.05) -> list[Message]:
    out: list[Message] = []
    while batch := await consumer.fetch(max_records=100, timeout_s=timeout_s):
        out.extend(batch)
    return out


def test_partition_is_a_stable_hash_of_the_key() -> None:
    assert partition_for("sha256:abc", 4) == partition_for("sha256:abc", 4)
    assert {partition_for(f"k{i}", 4) for i in range(50)} == {0, 1, 2, 3}


async def test_records_of_one_key_keep_their_order(memory_bus: MemoryBus) -> None:
    for i in range(10):
        await memory_bus.publish("t", "same-key", f"{i}".encode(), [("h", b"v")])
    consumer = memory_bus.consumer("g", ["t"])
    await consumer.start()
    got = await drain(consumer)
    assert [m.value for m in got] == [f"{i}".encode() for i in range(10)]
    assert {m.partition for m in got} == {partition_for("same-key", 4)}
    assert [m.offset for m in got] == list(range(10))
    assert got[0].key == b"same-key"
    assert got[0].headers == (("h", b"v"),)


async def test_fetch_waits_for_a_record_or_the_timeout(memory_bus: MemoryBus) -> None:
    consumer = memory_bus.consumer("g", ["t"])
    await consumer.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await consumer.fetch(max_records=10, timeout_s=0.2) == []
    assert loop.time() - started >= 0.19

    async def publish_later() -> None:
        await asyncio.sleep(0.05)
        await memory_bus.publish("t", "k", b"late")

    task = asyncio.create_task(publish_later())
    got = await consumer.fetch(max_records=10, timeout_s=5)
    await task
    assert [m.value for m in got] == [b"late"]


async def test_a_restarted_member_resumes_from_the_committed_offset(memory_bus: MemoryBus) -> None:
    for i in range(6):
        await memory_bus.publish("t", f"k{i}", f"{i}".encode())
    first = memory_bus.consumer("g", ["t"])
    await first.start()
    got = await drain(first)
    assert len(got) == 6
    await first.commit(got[:3])  # the rest stays uncommitted
    await first.stop()

    second = memory_bus.consumer("g", ["t"])
    await second.start()
    again = await drain(second)
    committed = {(m.topic, m.partition, m.offset) for m in got[:3]}
    # Everything not committed comes back; per partition, the highest commit covers what precedes it.
    assert {m.value for m in again} | {m.value for m in got[:3]} == {m.value for m in got}
    assert not committed & {(m.topic, m.partition, m.offset) for m in again}


async def test_other_groups_read_independently(memory_bus: MemoryBus) -> None:
    await memory_bus.publish("t", "k", b"x")
    a, b = memory_bus.consumer("a", ["t"]), memory_bus.consumer("b", ["t"])
    await a.start()
    await b.start()
    await a.commit(await drain(a))
    assert [m.value for m in await drain(b)] == [b"x"]


async def test_members_of_a_group_split_the_partitions(memory_bus: MemoryBus) -> None:
    await memory_bus.ensure_topics(["t"], partitions=4)
    a, b = memory_bus.consumer("g", ["t"]), memory_bus.consumer("g", ["t"])
    await a.start()
    await b.start()
    assert a.assignment() | b.assignment() == {("t", p) for p in range(4)}
    assert not a.assignment() & b.assignment()
    for i in range(40):
        await memory_bus.publish("t", f"k{i}", b"v")
    got_a, got_b = await drain(a), await drain(b)
    assert len(got_a) + len(got_b) == 40
    assert {m.partition for m in got_a}.isdisjoint({m.partition for m in got_b})

    # When a member leaves without committing, the survivor gets its records again.
    await a.commit(got_a)
    await b.stop()
    assert a.assignment() == {("t", p) for p in range(4)}
    assert sorted(m.offset for m in await drain(a)) == sorted(m.offset for m in got_b)


async def test_commit_keeps_the_highest_offset_per_partition(memory_bus: MemoryBus) -> None:
    await memory_bus.ensure_topics(["t"], partitions=1)
    for i in range(3):
        await memory_bus.publish("t", "k", f"{i}".encode())
    consumer = memory_bus.consumer("g", ["t"])
    await consumer.start()
    got = await drain(consumer)
    await consumer.commit([got[2], got[0]])
    await consumer.commit([got[1]])  # older: must not move the offset back
    assert memory_bus.committed("g") == {("t", 0): 3}


async def test_misuse_is_a_bus_error() -> None:
    bus = MemoryBus()
    with pytest.raises(BusError):
        await bus.publish("t", "k", b"v")
    consumer = bus.consumer("g", ["t"])
    with pytest.raises(BusError):
        await consumer.fetch(max_records=1, timeout_s=0)
