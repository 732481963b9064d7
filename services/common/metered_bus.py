"""A ``Bus`` that counts what passes through it: the metrics every service gets without touching
its handlers.

Published events are decoded by their topic's decoder (they were just encoded, so this only
costs a decode) and counted by type; scan results, finding events and alerts also feed their own
series. An engine's scan duration runs from the fetch of a ``scan.requested`` to the publish of
the ``scan.completed``/``scan.failed``/``scan.skipped`` with the same scan id. Failure reasons
are free text naming image, layer and file, so they are folded into a few kinds for the label.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Final

import msgspec

from schemas.codec import decode_event
from schemas.events import Alert, FindingEvent, ScanCompleted, ScanFailed, ScanRequested, ScanSkipped
from schemas.topics import Topics
from services.common.bus.interface import Bus, Consumer, Headers, Message
from services.common.metrics import Metrics

__all__ = ["MeteredBus", "failure_kind"]

_KINDS: Final = (
    ("timeout", ("timed out", "timeout", "wall time")),
    ("budget", ("budget", "limit", "too many", "too large", "rlimit")),
    ("registry", ("registry", "manifest", "http", "unauthorized", "denied", "not found")),
    ("corrupt", ("gzip", "digest", "truncated", "unexpected end", "corrupt", "tar")),
)
_STARTS: Final = 10_000  # scan starts remembered (an engine holds far fewer in flight)


def failure_kind(reason: str) -> str:
    """One of timeout, budget, registry, corrupt or other for a scan failure's reason."""
    text = reason.lower()
    for kind, words in _KINDS:
        if any(w in text for w in words):
            return kind
    return "other"


class _MeteredConsumer(Consumer):
    def __init__(self, inner: Consumer, bus: MeteredBus, group: str) -> None:
        self._inner, self._bus, self._group = inner, bus, group
        self._shown: set[tuple[str, int]] = set()  # the partitions whose lag series this member set

    async def start(self) -> None:
        await self._inner.start()

    async def stop(self) -> None:
        await self._inner.stop()

    async def fetch(self, *, max_records: int, timeout_s: float) -> list[Message]:
        messages = await self._inner.fetch(max_records=max_records, timeout_s=timeout_s)
        for m in messages:
            self._bus.consumed(m)
        return messages

    async def commit(self, messages: Sequence[Message]) -> None:
        await self._inner.commit(messages)

    def lag(self) -> dict[tuple[str, int], int]:
        return self._inner.lag()

    async def refresh_lag(self) -> None:
        """Set ``assay_consumer_lag`` for the partitions owned now; drop the series of those that left."""
        m = self._bus.metrics
        lags = self.lag()
        for topic, partition in self._shown - lags.keys():
            m.consumer_lag.remove(m.service, self._group, topic, str(partition))
        for (topic, partition), value in lags.items():
            m.consumer_lag.labels(m.service, self._group, topic, str(partition)).set(value)
        self._shown = set(lags)

    def __getattr__(self, name: str) -> object:  # assignment() and other transport extras
        return getattr(self._inner, name)


class MeteredBus(Bus):
    """``inner`` with every record consumed and event published counted in ``metrics``."""

    def __init__(self, inner: Bus, metrics: Metrics) -> None:
        self._inner, self._metrics = inner, metrics
        self._starts: OrderedDict[str, float] = OrderedDict()  # scan id -> monotonic start

    async def start(self) -> None:
        await self._inner.start()

    async def stop(self) -> None:
        await self._inner.stop()

    async def ensure_topics(self, topics: Sequence[str], partitions: int = 4) -> None:
        await self._inner.ensure_topics(topics, partitions)

    @property
    def metrics(self) -> Metrics:
        return self._metrics

    def consumer(self, group: str, topics: Sequence[str]) -> Consumer:
        metered = _MeteredConsumer(self._inner.consumer(group, topics), self, group)
        self._metrics.on_scrape(metered.refresh_lag)  # lag is read from the client at scrape time
        return metered

    async def publish(self, topic: str, key: str, value: bytes, headers: Headers = ()) -> None:
        await self._inner.publish(topic, key, value, headers)
        self._published(topic, value)

    def __getattr__(self, name: str) -> object:  # records(), committed() of the memory bus, etc.
        return getattr(self._inner, name)

    def consumed(self, message: Message) -> None:
        """Count a consumed record; remember when a scan request was taken."""
        m = self._metrics
        m.consumed.labels(m.service, message.topic).inc()
        if message.topic != Topics.SCAN_REQUESTS:
            return  # only a scan request starts a clock; other records are not decoded twice
        try:
            event = decode_event(message.topic, message.value)
        except (msgspec.DecodeError, KeyError, ValueError):
            return  # a poison pill: the runner dead-letters it
        if isinstance(event, ScanRequested):
            self._starts[event.scan_id] = time.monotonic()
            self._starts.move_to_end(event.scan_id)
            while len(self._starts) > _STARTS:
                self._starts.popitem(last=False)

    def _published(self, topic: str, value: bytes) -> None:
        m, svc = self._metrics, self._metrics.service
        try:
            event = decode_event(topic, value)
        except (msgspec.DecodeError, KeyError, ValueError):
            m.published.labels(svc, topic, "undecodable").inc()
            return
        m.published.labels(svc, topic, type(event).__name__).inc()
        if isinstance(event, ScanRequested):
            m.scans_requested.labels(svc, event.reason).inc()
        elif isinstance(event, ScanCompleted | ScanFailed | ScanSkipped):
            if isinstance(event, ScanCompleted):
                m.scans_completed.labels(svc).inc()
                m.scan_bytes.labels(svc).inc(sum(max(0, layer.size) for layer in event.image.layers))
            elif isinstance(event, ScanFailed):
                m.scans_failed.labels(svc, failure_kind(event.error)).inc()
            else:
                m.scans_skipped.labels(svc).inc()
            started = self._starts.pop(event.scan_id, None)
            if started is not None:
                m.scan_seconds.labels(svc).observe(time.monotonic() - started)
        elif isinstance(event, FindingEvent):
            m.findings.labels(svc, event.finding.severity.upper(), event.state).inc()
        elif isinstance(event, Alert):
            m.alerts.labels(svc).inc()
