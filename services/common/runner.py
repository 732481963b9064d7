"""The service loop, the same on every transport: fetch, handle, publish, then commit.

A handler is a plain async function from one event to the events it emits. The runner
gives it at-least-once delivery: a batch's offsets are committed only after every record
the batch produced was acknowledged, so a crash in between replays the batch and handlers
must be idempotent (on digest or scan id).

Bad input does not stop a service: a record that does not decode, or whose handler raises,
goes to ``Topics.DLQ`` as a ``DeadLetter`` and the loop moves on. Infrastructure failures
(``BusError``, ``StoreError`` by default) do stop it, uncommitted, so that the records are
handled again once the service is restarted instead of being dead-lettered for an outage.

Each record is handled inside a span ``"{service} handle"`` whose parent is the trace
context found in the record's headers; the records it emits carry that span's context.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import msgspec
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, TracerProvider

from schemas import DeadLetter, Event, Topics, decode_event, encode_event
from services.common.bus.interface import Bus, Message
from services.common.errors import BusError, StoreError
from services.common.telemetry import SERVICE_ATTRIBUTE, extract, inject

__all__ = ["FATAL_ERRORS", "Handler", "Outgoing", "publish_event", "run_service"]

log = logging.getLogger(__name__)


class Outgoing(msgspec.Struct, frozen=True):
    """An event a handler wants published: to ``topic``, partitioned by ``key``."""

    topic: str
    key: str
    event: Event


Handler = Callable[[Event], Awaitable[Sequence[Outgoing]]]
"""Handles one event and returns what to publish; raising sends the input to the DLQ."""

FATAL_ERRORS: tuple[type[BaseException], ...] = (BusError, StoreError)
"""Handler exceptions that stop the loop instead of dead-lettering the record."""


async def publish_event(bus: Bus, topic: str, key: str, event: Event) -> None:
    """Encode ``event`` and publish it with the current trace context in its headers.

    For producers that are not consumers (inventory); the runner uses it for handler output.
    """
    headers: list[tuple[str, bytes]] = []
    inject(headers)
    await bus.publish(topic, key, encode_event(event), headers)


async def run_service(
    bus: Bus,
    *,
    service: str,
    group: str,
    topics: Sequence[str],
    handler: Handler,
    stop: asyncio.Event,
    max_records: int = 10,
    idle_timeout_s: float = 0.5,
    fatal_errors: tuple[type[BaseException], ...] = FATAL_ERRORS,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """Consume ``topics`` in ``group`` until ``stop`` is set, finishing the batch in flight.

    ``bus`` must be started by the caller. ``tracer_provider`` defaults to the global one.
    Raises ``BusError`` when fetching or publishing fails (nothing of the batch is committed)
    and re-raises handler exceptions listed in ``fatal_errors``.
    """
    tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
    consumer = bus.consumer(group, topics)
    await consumer.start()
    try:
        while not stop.is_set():
            messages = await consumer.fetch(max_records=max_records, timeout_s=idle_timeout_s)
            if not messages:
                continue
            for message in messages:
                await _handle(bus, tracer, service, handler, message, fatal_errors)
            try:
                await consumer.commit(messages)
            except BusError as exc:
                # Everything was published; the records come back to whoever owns the partition
                # now (usually after a rebalance) and the idempotent handlers absorb the repeat.
                log.warning("%s: commit failed, records will be delivered again: %s", service, exc)
    finally:
        await consumer.stop()


async def _handle(
    bus: Bus,
    tracer: Tracer,
    service: str,
    handler: Handler,
    message: Message,
    fatal_errors: tuple[type[BaseException], ...],
) -> None:
    """Handle one record inside its span: decode, call the handler, publish its output."""
    key = message.key.decode("utf-8", "replace") if message.key is not None else ""
    attributes: dict[str, str | int] = {
        SERVICE_ATTRIBUTE: service,
        "messaging.system": "kafka",
        "messaging.destination.name": message.topic,
        "messaging.destination.partition.id": str(message.partition),
        "messaging.kafka.offset": message.offset,
        "messaging.kafka.message.key": key,
    }
    with tracer.start_as_current_span(
        f"{service} handle",
        context=extract(message.headers),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
        record_exception=True,
        set_status_on_exception=True,
    ) as span:
        try:
            event = decode_event(message.topic, message.value)
        except (msgspec.DecodeError, KeyError) as exc:
            # msgspec.ValidationError is a DecodeError; KeyError: a topic Assay has no decoder for.
            await _dead_letter(bus, span, service, message, key, f"undecodable: {exc}")
            return
        span.set_attribute("assay.event.type", _tag(event))
        try:
            outgoing = await handler(event)
        except fatal_errors:
            raise
        except Exception as exc:
            log.exception(
                "%s: handler failed on %s[%d]@%d", service, message.topic, message.partition, message.offset
            )
            span.record_exception(exc)
            await _dead_letter(bus, span, service, message, key, f"{type(exc).__name__}: {exc}")
            return
        # Concurrent publishes are enqueued in call order, so per-key order is kept.
        results = await asyncio.gather(
            *(publish_event(bus, out.topic, out.key, out.event) for out in outgoing), return_exceptions=True
        )
        # Every publish is awaited before the first failure is raised, so none is left running.
        for result in results:
            if isinstance(result, BaseException):
                raise result


async def _dead_letter(
    bus: Bus, span: trace.Span, service: str, message: Message, key: str, error: str
) -> None:
    span.set_status(Status(StatusCode.ERROR, error))
    span.set_attribute("assay.dead_letter", True)
    letter = DeadLetter(
        service=service,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=key,
        payload=message.value,
        error=error,
        failed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    await publish_event(bus, Topics.DLQ, key, letter)


def _tag(event: Event) -> str:
    tag = event.__struct_config__.tag
    return str(tag) if tag is not None else type(event).__name__
