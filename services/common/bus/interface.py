"""The bus seam. Services never import aiokafka or faust: they get a ``Bus``.

Implementations: ``memory`` (in-process, for tests and one-process runs) and ``kafka``
(aiokafka against Apache Kafka, Redpanda, MSK or the embedded Tansu broker).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import msgspec

Headers = Sequence[tuple[str, bytes]]


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """One consumed record, as the transport delivered it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class Consumer(abc.ABC):
    """A member of a consumer group on some topics. Offsets are committed explicitly."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Join the group."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Leave the group without committing anything further."""

    @abc.abstractmethod
    async def fetch(self, *, max_records: int, timeout_s: float) -> list[Message]:
        """Up to ``max_records`` messages, waiting at most ``timeout_s`` for the first."""

    @abc.abstractmethod
    async def commit(self, messages: Sequence[Message]) -> None:
        """Mark ``messages`` (and everything before them in their partitions) as processed."""

    def lag(self) -> dict[tuple[str, int], int]:
        """Per owned (topic, partition): records behind the high watermark not yet committed by this
        member, as far as the transport knows now (no request); {} where it cannot tell."""
        return {}


class Bus(abc.ABC):
    """Publishes records and makes consumers."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect the producer."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Flush and disconnect."""

    @abc.abstractmethod
    async def publish(self, topic: str, key: str, value: bytes, headers: Headers = ()) -> None:
        """Send one record and wait until the broker acknowledged it (acks=all)."""

    @abc.abstractmethod
    def consumer(self, group: str, topics: Sequence[str]) -> Consumer:
        """A consumer in ``group`` that starts, when no offset is committed, at the earliest record."""

    async def ensure_topics(self, topics: Sequence[str], partitions: int = 4) -> None:  # noqa: B027
        """Create missing topics (a no-op where the transport creates them itself)."""
