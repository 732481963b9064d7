"""Consumer-group offsets and lag, through the plain consumer API.

Lag is ``end offset - committed offset`` summed over a topic's partitions. It is read with
ListOffsets and OffsetFetch (``AIOKafkaConsumer.end_offsets`` / ``committed``), which every
Kafka-protocol broker answers — Apache Kafka, Redpanda, MSK and Tansu alike — rather than the
admin API's group listing. The probe never joins the group and never commits: it only reads.
(A commit from a non-member — how a fresh group could be started at the topic's end — left
the embedded Tansu 0.6 broker unresponsive, so a replay instead needs a topic without old
records, or accepts that a new dedupe group works through them first.)

This is the load test's own Kafka client: services only ever see the ``Bus`` seam.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiokafka import AIOKafkaConsumer, TopicPartition

__all__ = ["GroupProbe"]


class GroupProbe:
    """Reads one group's committed offsets and the end offsets of one topic."""

    def __init__(self, bootstrap: str, group: str, topic: str) -> None:
        self.group = group
        self.topic = topic
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id="assay-loadtest-probe",
            enable_auto_commit=False,
        )
        self._partitions: list[TopicPartition] = []

    async def __aenter__(self) -> Self:
        await self._consumer.start()
        await self._consumer.topics()  # a metadata refresh, so the topic's partitions are known
        partitions = self._consumer.partitions_for_topic(self.topic) or set()
        if not partitions:
            await self._consumer.stop()
            raise RuntimeError(f"topic {self.topic} does not exist (or has no partitions)")
        self._partitions = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._consumer.stop()

    @property
    def partitions(self) -> int:
        """How many partitions the topic has."""
        return len(self._partitions)

    async def end_offsets(self) -> dict[int, int]:
        """The next offset to be written, per partition."""
        ends = await self._consumer.end_offsets(self._partitions)
        return {tp.partition: int(ends[tp]) for tp in self._partitions}

    async def committed(self) -> dict[int, int]:
        """The group's committed offset per partition; the log start where it has none."""
        starts = await self._consumer.beginning_offsets(self._partitions)
        out = {}
        for tp in self._partitions:
            offset = await self._consumer.committed(tp)
            out[tp.partition] = int(offset) if offset is not None and offset >= 0 else int(starts[tp])
        return out

    async def lag(self) -> int:
        """Records on the topic the group has not committed yet, over all partitions."""
        ends = await self.end_offsets()
        committed = await self.committed()
        return sum(max(0, ends[p] - committed[p]) for p in ends)
