"""An in-process ``Bus``: partitioned topics, consumer groups and committed offsets in memory.

It mirrors the parts of Kafka's contract that services rely on, so tests written against it
hold on a real broker too:

- a record's partition is a stable hash of its key, so one key keeps its order;
- a consumer group commits an offset per partition; a new member of the group (a restarted
  service) starts from the committed offset, or from the earliest record when there is none;
- the members of a group split the partitions between them (partition ``i`` of the sorted
  list goes to member ``i mod n``); a partition changing hands resumes from its committed
  offset, so uncommitted records are delivered again (at-least-once).

Nothing is persisted: the data lives as long as the ``MemoryBus`` object.
"""

from __future__ import annotations

import asyncio
import itertools
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.common.bus.interface import Bus, Consumer, Headers, Message
from services.common.errors import BusError

__all__ = ["MemoryBus", "MemoryConsumer", "partition_for"]

TopicPartition = tuple[str, int]


def partition_for(key: str, partitions: int) -> int:
    """The partition of ``key``: CRC-32 of its UTF-8 bytes modulo the partition count.

    Stable across processes and Python versions (unlike ``hash()``, which is salted).
    """
    return zlib.crc32(key.encode()) % partitions


@dataclass
class _Group:
    members: list[MemoryConsumer] = field(default_factory=list)
    committed: dict[TopicPartition, int] = field(default_factory=dict)


class MemoryBus(Bus):
    """Topics and consumer groups held in this process; see the module docstring for the semantics."""

    def __init__(self, *, partitions: int = 4) -> None:
        if partitions < 1:
            raise ValueError("partitions must be at least 1")
        self._default_partitions = partitions
        self._logs: dict[str, list[list[Message]]] = {}
        self._groups: dict[str, _Group] = {}
        self._changed = asyncio.Condition()
        self._started = False
        self._member_ids = itertools.count()

    async def start(self) -> None:
        """Mark the bus usable; topics and offsets survive stop/start."""
        self._started = True

    async def stop(self) -> None:
        """Refuse further publishes until started again; the data is kept."""
        self._started = False

    async def ensure_topics(self, topics: Sequence[str], partitions: int = 4) -> None:
        """Create the topics that do not exist yet with ``partitions`` partitions."""
        for topic in topics:
            self._topic(topic, partitions)
        await self._notify()

    async def publish(self, topic: str, key: str, value: bytes, headers: Headers = ()) -> None:
        """Append one record to its key's partition (acknowledged at once: it is in memory)."""
        if not self._started:
            raise BusError("MemoryBus.publish before start()")
        log = self._topic(topic, self._default_partitions)
        partition = partition_for(key, len(log))
        records = log[partition]
        records.append(
            Message(
                topic=topic,
                partition=partition,
                offset=len(records),
                key=key.encode(),
                value=bytes(value),
                headers=tuple((name, bytes(val)) for name, val in headers),
            )
        )
        await self._notify()

    def consumer(self, group: str, topics: Sequence[str]) -> MemoryConsumer:
        """A new member of ``group``; it joins on ``start()``."""
        return MemoryConsumer(self, group, tuple(topics), next(self._member_ids))

    def committed(self, group: str) -> dict[TopicPartition, int]:
        """The committed offsets of ``group`` (the next offset to read, per partition); for tests."""
        return dict(self._groups.get(group, _Group()).committed)

    def records(self, topic: str) -> list[Message]:
        """Every record of ``topic``, partition by partition; for tests and the one-process mode."""
        return [msg for part in self._logs.get(topic, []) for msg in part]

    # -- internals used by MemoryConsumer ------------------------------------------------

    def _topic(self, topic: str, partitions: int) -> list[list[Message]]:
        log = self._logs.get(topic)
        if log is None:
            log = self._logs[topic] = [[] for _ in range(partitions)]
        return log

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _join(self, member: MemoryConsumer) -> None:
        self._groups.setdefault(member.group, _Group()).members.append(member)

    def _leave(self, member: MemoryConsumer) -> None:
        group = self._groups.get(member.group)
        if group is not None and member in group.members:
            group.members.remove(member)

    def _assignment(self, member: MemoryConsumer) -> list[TopicPartition]:
        """The partitions ``member`` owns now: a round-robin split of the sorted partitions."""
        group = self._groups[member.group]
        subscribed = sorted({t for m in group.members for t in m.topics})
        every = [(t, p) for t in subscribed for p in range(len(self._logs.get(t, [])))]
        index = group.members.index(member)
        mine = every[index :: len(group.members)]
        return [tp for tp in mine if tp[0] in member.topics]

    def _read(self, tp: TopicPartition, offset: int, limit: int) -> list[Message]:
        topic, partition = tp
        return self._logs[topic][partition][offset : offset + limit]

    def _commit(self, group: str, offsets: dict[TopicPartition, int]) -> None:
        committed = self._groups.setdefault(group, _Group()).committed
        for tp, offset in offsets.items():
            committed[tp] = max(committed.get(tp, 0), offset)


class MemoryConsumer(Consumer):
    """One member of a consumer group on a ``MemoryBus``."""

    def __init__(self, bus: MemoryBus, group: str, topics: tuple[str, ...], member_id: int) -> None:
        self._bus = bus
        self.group = group
        self.topics = topics
        self.member_id = member_id
        self._positions: dict[TopicPartition, int] = {}
        self._started = False

    async def start(self) -> None:
        """Join the group; the partitions are split again among the members."""
        if self._started:
            return
        self._bus._join(self)
        self._started = True
        await self._bus._notify()

    async def stop(self) -> None:
        """Leave the group; its partitions go to the other members at their committed offsets."""
        if not self._started:
            return
        self._started = False
        self._bus._leave(self)
        self._positions.clear()
        await self._bus._notify()

    def assignment(self) -> set[tuple[str, int]]:
        """The partitions this member owns now, as (topic, partition); empty when not started."""
        return set(self._bus._assignment(self)) if self._started else set()

    async def fetch(self, *, max_records: int, timeout_s: float) -> list[Message]:
        """Up to ``max_records`` records from the owned partitions, waiting up to ``timeout_s``."""
        if not self._started:
            raise BusError("MemoryConsumer.fetch before start()")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        cond = self._bus._changed
        async with cond:
            while True:
                batch = self._take(max_records)
                remaining = deadline - loop.time()
                if batch or remaining <= 0:
                    return batch
                try:
                    await asyncio.wait_for(cond.wait(), remaining)
                except TimeoutError:
                    return self._take(max_records)

    async def commit(self, messages: Sequence[Message]) -> None:
        """Commit ``offset + 1`` of the highest message per partition."""
        if not self._started:
            raise BusError("MemoryConsumer.commit on a consumer that is not in its group")
        offsets: dict[TopicPartition, int] = {}
        for msg in messages:
            tp = (msg.topic, msg.partition)
            offsets[tp] = max(offsets.get(tp, 0), msg.offset + 1)
        self._bus._commit(self.group, offsets)

    def lag(self) -> dict[tuple[str, int], int]:
        """Records of each owned partition after the group's committed offset."""
        if not self._started:
            return {}
        committed = self._bus.committed(self.group)
        return {
            (t, p): len(self._bus._logs[t][p]) - committed.get((t, p), 0)
            for t, p in self._bus._assignment(self)
        }

    def _take(self, max_records: int) -> list[Message]:
        assigned = self._bus._assignment(self)
        committed = self._bus.committed(self.group)
        # Partitions that moved here start at the committed offset; ones that left are forgotten.
        self._positions = {tp: self._positions.get(tp, committed.get(tp, 0)) for tp in assigned}
        batch: list[Message] = []
        # Round-robin one record at a time so a busy partition cannot starve the others.
        progress = True
        while len(batch) < max_records and progress:
            progress = False
            for tp in assigned:
                if len(batch) >= max_records:
                    break
                records = self._bus._read(tp, self._positions[tp], 1)
                if records:
                    batch.extend(records)
                    self._positions[tp] += 1
                    progress = True
        return batch
