"""The Kafka ``Bus`` on aiokafka: the only module of Assay that imports aiokafka.

It relies only on the core Kafka protocol (produce, fetch, consumer groups, offset commits,
CreateTopics), so it runs the same against Apache Kafka, Redpanda, MSK and the embedded
Tansu broker. Deliberately not used, because Tansu lacks them and at-least-once with
idempotent handlers does not need them: the idempotent producer, transactions, and the
admin API for consumer-group offsets.

Every aiokafka exception leaves this module as a ``BusError`` chained with ``from``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    KafkaError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
    for_code,
)
from aiokafka.helpers import create_ssl_context

from services.common.bus.claimcheck import ClaimCheck
from services.common.bus.interface import Bus, Consumer, Headers, Message
from services.common.config import KafkaSecurity
from services.common.errors import BusError, ConfigError

__all__ = ["MAX_REQUEST_BYTES", "KafkaBus", "KafkaConsumer", "connection_options"]

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 8 * 1024 * 1024
"""Largest record batch the producer sends; a scan of a big image can reach a few MiB.

Brokers and topics must accept it too (``message.max.bytes`` / ``max.message.bytes``).
"""


def connection_options(security: KafkaSecurity | None) -> dict[str, Any]:
    """The aiokafka keyword arguments for ``security`` (shared by producer, consumers and admin)."""
    if security is None or security.protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": security.protocol}
    if security.protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = _tls_context(security)
    if security.protocol.startswith("SASL_"):
        options.update(
            sasl_mechanism=security.sasl_mechanism,
            sasl_plain_username=security.username,
            sasl_plain_password=security.password,
        )
    return options


def _tls_context(security: KafkaSecurity) -> ssl.SSLContext:
    """The TLS context: the CA bundle to trust and, for mTLS, the client certificate and key."""
    try:
        context: ssl.SSLContext = create_ssl_context(
            cafile=security.ssl_cafile or None,
            certfile=security.ssl_certfile or None,  # mTLS: the broker maps the certificate to a principal
            keyfile=security.ssl_keyfile or None,
        )
    except (OSError, ssl.SSLError) as exc:
        files = [f for f in (security.ssl_cafile, security.ssl_certfile, security.ssl_keyfile) if f]
        raise ConfigError(f"ASSAY_KAFKA_SSL_*: cannot load {', '.join(files)}: {exc}") from exc
    return context


# Errors the Kafka client raises besides its own tree while connecting or sending.
_TRANSPORT_ERRORS = (KafkaError, OSError, asyncio.TimeoutError)


class KafkaBus(Bus):
    """Publishes with acks=all and makes consumers that commit explicit offsets.

    ``bootstrap`` is a comma-separated ``host:port`` list. ``replication_factor`` is used
    only when ``ensure_topics`` creates a topic (1 for a single local broker; 3 on a cluster).
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "assay",
        replication_factor: int = 1,
        linger_ms: int = 5,
        session_timeout_ms: int = 10_000,
        max_poll_interval_ms: int = 300_000,
        claim_check: ClaimCheck | None = None,
        security: KafkaSecurity | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        # TLS and SASL options for every client this bus makes (never logged: they hold the password)
        self._options = connection_options(security)
        # large values go to an object store, the record carries a reference header (claimcheck.py)
        self._claim_check = claim_check
        self._client_id = client_id
        self._replication_factor = replication_factor
        self._linger_ms = linger_ms
        self._session_timeout_ms = session_timeout_ms
        self._max_poll_interval_ms = max_poll_interval_ms
        self._producer: AIOKafkaProducer | None = None
        # Serialises the enqueue step of publish() so concurrent publishes keep their call order.
        self._send_lock = asyncio.Lock()

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers this bus connects to."""
        return self._bootstrap

    async def start(self) -> None:
        """Connect the producer."""
        if self._producer is not None:
            return
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            acks="all",
            # Tansu answers InitProducerId with an error; duplicates are absorbed by idempotent handlers.
            enable_idempotence=False,
            compression_type="gzip",
            max_request_size=MAX_REQUEST_BYTES,
            linger_ms=self._linger_ms,
            **self._options,
        )
        try:
            await producer.start()
        except _TRANSPORT_ERRORS as exc:
            await _quietly(producer.stop())
            raise BusError(f"cannot connect the Kafka producer to {self._bootstrap}: {exc!r}") from exc
        self._producer = producer

    async def stop(self) -> None:
        """Flush pending records and disconnect the producer."""
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            await producer.stop()
        except _TRANSPORT_ERRORS as exc:
            raise BusError(f"cannot flush the Kafka producer: {exc!r}") from exc

    async def publish(self, topic: str, key: str, value: bytes, headers: Headers = ()) -> None:
        """Send one record and wait for the acknowledgement of all in-sync replicas.

        Concurrent calls (``asyncio.gather``) are enqueued in call order and batched together.
        """
        if self._producer is None:
            raise BusError("KafkaBus.publish before start()")
        if self._claim_check is not None:
            value, headers = await self._claim_check.outgoing(topic, value, headers)
        try:
            async with self._send_lock:
                delivery = await self._producer.send(
                    topic, value=value, key=key.encode(), headers=list(headers)
                )
            await delivery
        except _TRANSPORT_ERRORS as exc:
            raise BusError(f"cannot publish to {topic}: {exc!r}") from exc

    def consumer(self, group: str, topics: Sequence[str]) -> KafkaConsumer:
        """A member of ``group``; it joins on ``start()``."""
        return KafkaConsumer(
            AIOKafkaConsumer(
                *topics,
                bootstrap_servers=self._bootstrap,
                client_id=self._client_id,
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=self._session_timeout_ms,
                max_poll_interval_ms=self._max_poll_interval_ms,
                fetch_max_bytes=4 * MAX_REQUEST_BYTES,
                max_partition_fetch_bytes=MAX_REQUEST_BYTES,
                **self._options,
            ),
            group=group,
            claim_check=self._claim_check,
        )

    async def ensure_topics(self, topics: Sequence[str], partitions: int = 4) -> None:
        """Create the missing ``topics``; one that exists (or appears meanwhile) is left as it is.

        A principal allowed to write its own topics only (an agent) may neither create topics nor
        see those it cannot describe: a topic refused with TopicAuthorizationFailed or
        ClusterAuthorizationFailed is logged as a warning naming it and the start goes on, since an
        operator creates topics for such principals (a write to a missing topic fails later, named).
        """
        admin = self._admin()
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in dict.fromkeys(topics) if t not in existing]
            if not missing:
                return
            response = await admin.create_topics(
                [NewTopic(t, partitions, self._replication_factor) for t in missing]
            )
            for topic_error in response.topic_errors:
                _check_created(topic_error[0], topic_error[1])
        except _NOT_AUTHORIZED as exc:  # refused as a whole, before any topic was looked at
            log.warning(
                "may not create topics %s on %s (%s): assuming they exist", topics, self._bootstrap, exc
            )
        except _TRANSPORT_ERRORS as exc:
            raise BusError(f"cannot create topics on {self._bootstrap}: {exc!r}") from exc
        finally:
            await _quietly(admin.close())

    def _admin(self) -> AIOKafkaAdminClient:
        """An admin client with this bus's connection options (the seam tests replace)."""
        return AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap, client_id=self._client_id, **self._options
        )


_NOT_AUTHORIZED = (TopicAuthorizationFailedError, ClusterAuthorizationFailedError)


def _check_created(topic: str, code: int) -> None:
    """``BusError`` unless CreateTopics' answer for ``topic`` is success, exists, or not authorised."""
    if code == 0:
        return
    error = for_code(code)
    if error is TopicAlreadyExistsError:  # another service created it between list and create
        return
    if error in _NOT_AUTHORIZED:
        log.warning(
            "may not create topic %s (%s): assuming an operator created it; a write to it fails if not",
            topic,
            error.__name__,
        )
        return
    raise BusError(f"cannot create topic {topic}: {error.__name__} ({code})")


class KafkaConsumer(Consumer):
    """A consumer-group member: no auto-commit, earliest offset when the group has none."""

    def __init__(
        self, consumer: AIOKafkaConsumer, *, group: str, claim_check: ClaimCheck | None = None
    ) -> None:
        self._consumer = consumer
        self._group = group
        self._claim_check = claim_check
        self._started = False
        self._done: dict[TopicPartition, int] = {}  # next offset to read, per partition (fetched)
        self._committed: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        """Connect and subscribe; the group join itself completes during the first fetches."""
        if self._started:
            return
        try:
            await self._consumer.start()
        except _TRANSPORT_ERRORS as exc:
            await _quietly(self._consumer.stop())
            raise BusError(f"cannot start a consumer in group {self._group}: {exc!r}") from exc
        self._started = True

    async def stop(self) -> None:
        """Leave the group (LeaveGroup, so the partitions move at once) without committing."""
        if not self._started:
            return
        self._started = False
        try:
            await self._consumer.stop()
        except _TRANSPORT_ERRORS as exc:
            raise BusError(f"cannot stop the consumer in group {self._group}: {exc!r}") from exc

    def assignment(self) -> set[tuple[str, int]]:
        """The partitions this member owns now, as (topic, partition); empty before joining."""
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    async def fetch(self, *, max_records: int, timeout_s: float) -> list[Message]:
        """Up to ``max_records`` records, waiting at most ``timeout_s`` for the first."""
        if not self._started:
            raise BusError(f"fetch before start() in group {self._group}")
        try:
            batches: dict[Any, list[Any]] = await self._consumer.getmany(
                timeout_ms=int(timeout_s * 1000), max_records=max_records
            )
        except _TRANSPORT_ERRORS as exc:
            raise BusError(f"cannot fetch in group {self._group}: {exc!r}") from exc
        messages = [
            Message(
                topic=rec.topic,
                partition=rec.partition,
                offset=rec.offset,
                key=rec.key,
                value=rec.value if rec.value is not None else b"",
                headers=tuple((name, bytes(val)) for name, val in rec.headers),
            )
            for records in batches.values()
            for rec in records
        ]
        for m in messages:
            self._done[TopicPartition(m.topic, m.partition)] = m.offset + 1
        if self._claim_check is not None:
            messages = [await self._claim_check.incoming(m) for m in messages]
        return messages

    def lag(self) -> dict[tuple[str, int], int]:
        """High watermark (from the last fetch response) minus this member's committed offset, or its
        fetch position before its first commit; partitions with no fetch response yet are left out."""
        lags: dict[tuple[str, int], int] = {}
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            done = self._committed.get(tp, self._done.get(tp))
            if high is not None and done is not None:
                lags[(tp.topic, tp.partition)] = max(0, high - done)
        return lags

    async def commit(self, messages: Sequence[Message]) -> None:
        """Commit ``offset + 1`` of the highest message per partition.

        Raises ``BusError`` when the group rebalanced meanwhile (the partition's new owner will
        see the records again) or the broker is unreachable.
        """
        offsets: dict[TopicPartition, int] = {}
        for msg in messages:
            tp = TopicPartition(msg.topic, msg.partition)
            offsets[tp] = max(offsets.get(tp, 0), msg.offset + 1)
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except _TRANSPORT_ERRORS as exc:
            raise BusError(f"cannot commit offsets in group {self._group}: {exc!r}") from exc
        self._committed.update(offsets)


async def _quietly(closing: Any) -> None:
    """Await a close/stop while already failing: its own error would hide the first one."""
    try:
        await closing
    except _TRANSPORT_ERRORS as exc:
        log.debug("ignored while closing a Kafka client: %r", exc)
