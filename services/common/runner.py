"""The service loop, the same on every transport: fetch, handle, publish, then commit.

A handler is a plain async function from one event to the events it emits. The runner
gives it at-least-once delivery: a batch's offsets are committed only after every record
the batch produced was acknowledged, so a crash in between replays the batch and handlers
must be idempotent (on digest or scan id).

Bad input does not stop a service: a record that does not decode, whose handler raises, or
whose output cannot be encoded or published (an event holding a string that is not valid
UTF-8) goes to ``Topics.DLQ`` as a ``DeadLetter`` and the loop moves on. Infrastructure
failures (``BusError``, ``StoreError`` by default) do stop it, uncommitted, so that the
records are handled again once the service is restarted instead of being dead-lettered for
an outage. Outputs are all encoded before the first is published, so a record whose output
cannot be encoded publishes nothing but its dead letter.

Each record is handled inside a span ``"{service} handle"`` whose parent is the trace
context found in the record's headers; the records it emits carry that span's context.

A service may instead give a ``BatchHandler``: the whole fetched batch is handled in one call
(dedupe claims a batch in one database statement), which answers each event with its outputs
or with the exception that dead-letters it. ``on_published`` runs once every output of a batch
was acknowledged and before the offsets are committed (dedupe records that its scan requests
reached the broker).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import msgspec
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, TracerProvider

from schemas import DeadLetter, Event, Topics, decode_event, encode_event
from services.common.bus.interface import Bus, Message
from services.common.clock import utcnow
from services.common.errors import BusError, StoreError
from services.common.telemetry import SERVICE_ATTRIBUTE, extract, inject

__all__ = [
    "FATAL_ERRORS",
    "BatchHandler",
    "Handler",
    "OnPublished",
    "Outgoing",
    "publish_event",
    "run_service",
]

log = logging.getLogger(__name__)


class Outgoing(msgspec.Struct, frozen=True):
    """An event a handler wants published: to ``topic``, partitioned by ``key``."""

    topic: str
    key: str
    event: Event


Handler = Callable[[Event], Awaitable[Sequence[Outgoing]]]
"""Handles one event and returns what to publish; raising sends the input to the DLQ."""

BatchHandler = Callable[[Sequence[Event]], Awaitable[Sequence[Sequence[Outgoing] | Exception]]]
"""Handles a batch: one result per event, in order; an ``Exception`` result dead-letters that event.
Raising (a fatal error) stops the service with nothing of the batch committed."""

OnPublished = Callable[[Sequence[Outgoing]], Awaitable[None]]
"""Called with a batch's outputs once the broker acknowledged all of them, before the commit."""

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
    handler: Handler | None = None,
    stop: asyncio.Event,
    batch_handler: BatchHandler | None = None,
    on_published: OnPublished | None = None,
    max_records: int = 10,
    idle_timeout_s: float = 0.5,
    fatal_errors: tuple[type[BaseException], ...] = FATAL_ERRORS,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """Consume ``topics`` in ``group`` until ``stop`` is set, finishing the batch in flight.

    Exactly one of ``handler`` (one event at a time) and ``batch_handler`` (a fetched batch at
    once) is given. ``bus`` must be started by the caller. ``tracer_provider`` defaults to the
    global one. Raises ``BusError`` when fetching or publishing fails (nothing of the batch is
    committed) and re-raises handler exceptions listed in ``fatal_errors``.
    """
    if (handler is None) == (batch_handler is None):
        raise ValueError("run_service needs exactly one of handler and batch_handler")
    tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
    consumer = bus.consumer(group, topics)
    await consumer.start()
    try:
        while not stop.is_set():
            messages = await consumer.fetch(max_records=max_records, timeout_s=idle_timeout_s)
            if not messages:
                continue
            published: list[Outgoing] = []
            if batch_handler is not None:
                published = await _handle_batch(bus, tracer, service, batch_handler, messages, fatal_errors)
            else:
                assert handler is not None
                for message in messages:
                    published.extend(await _handle(bus, tracer, service, handler, message, fatal_errors))
            if on_published is not None and published:
                await on_published(published)
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
) -> Sequence[Outgoing]:
    """Handle one record inside its span: decode, call the handler, publish its output."""
    key = _key(message)
    with tracer.start_as_current_span(
        f"{service} handle",
        context=extract(message.headers),
        kind=SpanKind.CONSUMER,
        attributes=_attributes(service, message, key),
        record_exception=True,
        set_status_on_exception=True,
    ) as span:
        event = await _decode(bus, span, service, message, key)
        if event is None:
            return []
        try:
            outgoing = await handler(event)
        except fatal_errors:
            raise
        except Exception as exc:
            await _handler_failed(bus, span, service, message, key, exc)
            return []
        return await _publish_or_dead_letter(bus, span, service, message, key, outgoing, fatal_errors)


async def _handle_batch(
    bus: Bus,
    tracer: Tracer,
    service: str,
    handler: BatchHandler,
    messages: Sequence[Message],
    fatal_errors: tuple[type[BaseException], ...],
) -> list[Outgoing]:
    """Handle a fetched batch in one handler call; each record keeps a span of its own."""
    decoded: list[tuple[Message, str, trace.Span, Event]] = []
    try:
        for message in messages:
            key = _key(message)
            span = tracer.start_span(
                f"{service} handle",
                context=extract(message.headers),
                kind=SpanKind.CONSUMER,
                attributes=_attributes(service, message, key),
            )
            with trace.use_span(span, end_on_exit=False):
                event = await _decode(bus, span, service, message, key)
            if event is None:
                span.end()
            else:
                decoded.append((message, key, span, event))
        results = await handler([event for *_, event in decoded])
        if len(results) != len(decoded):
            raise RuntimeError(f"{service}: batch handler answered {len(results)} of {len(decoded)} events")
    except BaseException as exc:
        for _, _, span, _ in decoded:
            if isinstance(exc, fatal_errors):
                span.record_exception(exc)
            span.end()
        raise

    async def finish(message: Message, key: str, span: trace.Span, result: object) -> Sequence[Outgoing]:
        with trace.use_span(span, end_on_exit=True, record_exception=True, set_status_on_exception=True):
            if isinstance(result, Exception):
                await _handler_failed(bus, span, service, message, key, result)
                return []
            outgoing: Sequence[Outgoing] = result  # type: ignore[assignment]
            return await _publish_or_dead_letter(bus, span, service, message, key, outgoing, fatal_errors)

    # One task per record, created in order: publishes are enqueued in call order, so per-key
    # order is kept, and each record's outputs carry its own span's trace context.
    done = await asyncio.gather(
        *(finish(m, k, span, r) for (m, k, span, _), r in zip(decoded, results, strict=True)),
        return_exceptions=True,
    )
    published: list[Outgoing] = []
    for outcome in done:
        if isinstance(outcome, BaseException):
            raise outcome
        published.extend(outcome)
    return published


def _key(message: Message) -> str:
    return message.key.decode("utf-8", "replace") if message.key is not None else ""


def _attributes(service: str, message: Message, key: str) -> dict[str, str | int]:
    return {
        SERVICE_ATTRIBUTE: service,
        "messaging.system": "kafka",
        "messaging.destination.name": message.topic,
        "messaging.destination.partition.id": str(message.partition),
        "messaging.kafka.offset": message.offset,
        "messaging.kafka.message.key": key,
    }


async def _decode(bus: Bus, span: trace.Span, service: str, message: Message, key: str) -> Event | None:
    """The record's event, or None once an undecodable record was dead-lettered."""
    try:
        event = decode_event(message.topic, message.value)
    except (msgspec.DecodeError, KeyError) as exc:
        # msgspec.ValidationError is a DecodeError; KeyError: a topic Assay has no decoder for.
        await _dead_letter(bus, span, service, message, key, f"undecodable: {exc}")
        return None
    span.set_attribute("assay.event.type", _tag(event))
    return event


async def _handler_failed(
    bus: Bus, span: trace.Span, service: str, message: Message, key: str, exc: Exception
) -> None:
    log.error(
        "%s: handler failed on %s[%d]@%d: %s",
        service,
        message.topic,
        message.partition,
        message.offset,
        exc,
        exc_info=exc,
    )
    span.record_exception(exc)
    await _dead_letter(bus, span, service, message, key, f"{type(exc).__name__}: {exc}")


async def _publish_or_dead_letter(
    bus: Bus,
    span: trace.Span,
    service: str,
    message: Message,
    key: str,
    outgoing: Sequence[Outgoing],
    fatal_errors: tuple[type[BaseException], ...],
) -> Sequence[Outgoing]:
    """Publish one record's outputs; if that fails for any but a fatal reason, dead-letter the record."""
    try:
        await _publish_all(bus, outgoing)
    except fatal_errors:
        raise
    except Exception as exc:
        await _handler_failed(bus, span, service, message, key, exc)
        return []
    return outgoing


async def _publish_all(bus: Bus, outgoing: Sequence[Outgoing]) -> None:
    # Everything is encoded first: an output that cannot be (a surrogate-escaped file name in a
    # str) fails the record before any of its outputs reached the broker.
    encoded = [(out.topic, out.key, encode_event(out.event)) for out in outgoing]

    async def publish(topic: str, key: str, value: bytes) -> None:
        headers: list[tuple[str, bytes]] = []
        inject(headers)
        await bus.publish(topic, key, value, headers)

    # Concurrent publishes are enqueued in call order, so per-key order is kept.
    results = await asyncio.gather(*(publish(*item) for item in encoded), return_exceptions=True)
    # Every publish is awaited before the first failure is raised, so none is left running.
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _dead_letter(
    bus: Bus, span: trace.Span, service: str, message: Message, key: str, error: str
) -> None:
    # the error may quote bad input (a surrogate-escaped name): keep the letter encodable
    error = error.encode("utf-8", "backslashreplace").decode("utf-8")
    key = key.encode("utf-8", "backslashreplace").decode("utf-8")
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
        failed_at=utcnow(),
    )
    await publish_event(bus, Topics.DLQ, key, letter)


def _tag(event: Event) -> str:
    tag = event.__struct_config__.tag
    return str(tag) if tag is not None else type(event).__name__
