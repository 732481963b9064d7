"""OpenTelemetry tracing: provider set-up, exporters and W3C propagation over Kafka headers.

Global state rule: the OpenTelemetry API keeps one global tracer provider per process and
refuses to replace it. Assay sets it in exactly one place, ``setup_telemetry``, called once
by each entrypoint's lifespan (service ``main`` or ``assay up``). Everything else either
uses the global provider through ``opentelemetry.trace`` or receives a provider built with
``build_tracer_provider`` (tests do this, so that they never touch the global).

Propagation uses ``opentelemetry.propagate`` (W3C ``traceparent``/``tracestate`` and baggage
by default) over Kafka-style header lists: ``[(name, value_bytes), ...]``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from services.common.errors import ConfigError

__all__ = [
    "SERVICE_ATTRIBUTE",
    "JsonLinesSpanExporter",
    "build_tracer_provider",
    "extract",
    "inject",
    "setup_telemetry",
]

SERVICE_ATTRIBUTE = "assay.service"
"""Span attribute naming the Assay service that made a span.

Several services can share one process (and so one provider); the JSON-lines exporter
prefers this attribute over the resource's ``service.name`` for its ``service`` field.
"""

KafkaHeaders = list[tuple[str, bytes]]


def build_tracer_provider(service_name: str, exporter: str) -> TracerProvider:
    """A tracer provider for ``service_name`` exporting as ``exporter`` says; not made global.

    ``exporter`` (the ``ASSAY_OTEL_EXPORTER`` setting):

    - ``""``: spans are recorded (so trace context still propagates) but exported nowhere;
    - ``"console"``: pretty JSON on standard output;
    - ``"file:/path.jsonl"``: one compact JSON object per finished span per line, appended;
    - ``"otlp"``: OTLP over HTTP/protobuf (``opentelemetry-exporter-otlp-proto-http``, a
      dependency), to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (default ``http://localhost:4318``) and the
      other standard ``OTEL_EXPORTER_OTLP_*`` variables.
    """
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    if exporter == "":
        pass
    elif exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    elif exporter.startswith("file:"):
        path = exporter.removeprefix("file:")
        if not path:
            raise ConfigError("ASSAY_OTEL_EXPORTER: 'file:' needs a path, e.g. file:/tmp/spans.jsonl")
        # Simple (synchronous) processing: a span is on disk when it ends, which tests rely on.
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(path, service_name)))
    elif exporter == "otlp":
        provider.add_span_processor(BatchSpanProcessor(_otlp_exporter()))
    else:
        raise ConfigError(
            f"ASSAY_OTEL_EXPORTER: unknown exporter {exporter!r} (use '', 'console', 'file:PATH' or 'otlp')"
        )
    return provider


def setup_telemetry(service_name: str, exporter: str) -> TracerProvider:
    """Build the provider and make it the process's global one; call once per entrypoint.

    The caller owns the returned provider and calls ``shutdown()`` on exit, which flushes
    the exporter. A second call in the same process raises ``ConfigError`` rather than
    letting OpenTelemetry ignore it with a log line.
    """
    provider = build_tracer_provider(service_name, exporter)
    with _SETUP_LOCK:
        global _GLOBAL_SET
        if _GLOBAL_SET:
            provider.shutdown()
            raise ConfigError("setup_telemetry was already called in this process")
        trace.set_tracer_provider(provider)
        _GLOBAL_SET = True
    return provider


_SETUP_LOCK = threading.Lock()
_GLOBAL_SET = False


def _otlp_exporter() -> SpanExporter:
    """OTLP over HTTP/protobuf (a dependency), configured by the ``OTEL_EXPORTER_OTLP_*`` variables."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


class JsonLinesSpanExporter(SpanExporter):
    """Appends one compact JSON object per span to a file, one write per span.

    The file is opened with ``O_APPEND`` and each span is a single ``write``, so several
    processes can share one file without interleaving lines.
    """

    def __init__(self, path: str | os.PathLike[str], service_name: str = "") -> None:
        self._path = Path(path)
        self._service_name = service_name
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._encoder = msgspec.json.Encoder()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write each span as one line."""
        if self._fd is None:
            return SpanExportResult.FAILURE
        for span in spans:
            os.write(self._fd, self._encoder.encode(self._record(span)) + b"\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Close the file."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered: every span is written when exported."""
        return True

    def _record(self, span: ReadableSpan) -> dict[str, Any]:
        ctx = span.get_span_context()
        attributes = dict(span.attributes or {})
        service = attributes.get(SERVICE_ATTRIBUTE) or span.resource.attributes.get(
            SERVICE_NAME, self._service_name
        )
        return {
            "trace_id": f"{ctx.trace_id:032x}" if ctx else "",
            "span_id": f"{ctx.span_id:016x}" if ctx else "",
            "parent_span_id": f"{span.parent.span_id:016x}" if span.parent else None,
            "name": span.name,
            "service": service,
            "kind": span.kind.name,
            "start_ns": span.start_time,
            "end_ns": span.end_time,
            "status": span.status.status_code.name,
            "attributes": attributes,
        }


class _HeaderGetter(Getter[Sequence[tuple[str, bytes]]]):
    def get(self, carrier: Sequence[tuple[str, bytes]], key: str) -> list[str] | None:
        key = key.lower()
        values = [v.decode("latin-1") for k, v in carrier if k.lower() == key]
        return values or None

    def keys(self, carrier: Sequence[tuple[str, bytes]]) -> list[str]:
        return [k for k, _ in carrier]


class _HeaderSetter(Setter[KafkaHeaders]):
    def set(self, carrier: KafkaHeaders, key: str, value: str) -> None:
        # Replace, never duplicate: a record forwarded with its old headers gets the new context.
        carrier[:] = [(k, v) for k, v in carrier if k.lower() != key.lower()]
        carrier.append((key, value.encode("latin-1")))


_GETTER = _HeaderGetter()
_SETTER = _HeaderSetter()


def inject(headers: KafkaHeaders, context: Context | None = None) -> None:
    """Add the current (or given) trace context to ``headers`` in place (W3C ``traceparent``)."""
    propagate.inject(headers, context=context, setter=_SETTER)


def extract(headers: Iterable[tuple[str, bytes]]) -> Context:
    """The trace context carried by ``headers`` (an empty context when there is none)."""
    return propagate.extract(tuple(headers), getter=_GETTER)
