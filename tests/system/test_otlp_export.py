"""``ASSAY_OTEL_EXPORTER=otlp`` (the chart's ``otelExporter: otlp``) starts and exports over OTLP/HTTP.

Issue 14, defect 4: the OTLP exporter was neither a dependency nor in the image, so a service set
to ``otlp`` stopped at start-up. A service's telemetry set-up runs in a child process (as a service
starts it, once per process) against a local collector that decodes OTLP/HTTP protobuf bodies
with the OpenTelemetry protocol's own messages.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from deploy.render import manifests
from tests.harness.registry import free_port


class Collector:
    """An OTLP/HTTP trace receiver: ``POST /v1/traces`` with ``application/x-protobuf``."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.url = ""

    async def receive(self, request: web.Request) -> web.Response:
        assert request.content_type == "application/x-protobuf"
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.read())
        self.requests.append(message)
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(), content_type="application/x-protobuf"
        )

    def spans(self) -> list[tuple[str, str]]:
        """(service.name, span name) of every span received."""
        out = []
        for req in self.requests:
            for rs in req.resource_spans:
                service = next(
                    a.value.string_value for a in rs.resource.attributes if a.key == "service.name"
                )
                out += [(service, s.name) for ss in rs.scope_spans for s in ss.spans]
        return out


@pytest.fixture
async def collector() -> AsyncIterator[Collector]:
    fake = Collector()
    app = web.Application()
    app.router.add_post("/v1/traces", fake.receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


async def test_otlp_setting_starts_and_exports_to_the_collector(collector: Collector) -> None:
    script = textwrap.dedent(
        """
        from opentelemetry import trace
        from services.settings import load_settings
        from services.common.telemetry import setup_telemetry
        settings = load_settings()
        provider = setup_telemetry("assay-engine", settings.otel.exporter)
        with trace.get_tracer("t").start_as_current_span("engine scan"):
            pass
        provider.shutdown()  # flushes the batch to the collector
        """
    )
    env = {
        "ASSAY_OTEL_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "PATH": "/usr/bin:/bin",
    }
    proc = await _run([sys.executable, "-c", script], env)
    assert proc.returncode == 0, proc.stderr
    assert collector.spans() == [("assay-engine", "engine scan")]


async def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import asyncio

    return await asyncio.to_thread(subprocess.run, argv, env=env, capture_output=True, text=True, timeout=60)


def test_chart_points_otlp_at_the_collector_and_lets_it_through() -> None:
    objs = manifests({"otelExporter": "otlp", "otelEndpoint": "http://otel-collector.observability:4318"})
    for obj in objs:
        if obj["kind"] != "Deployment" or obj["metadata"]["name"] == "assay-api":
            continue
        env = {e["name"]: e.get("value") for e in obj["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["ASSAY_OTEL_EXPORTER"] == "otlp"
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318"
    (otel,) = [o for o in objs if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "assay-otlp"]
    assert [p["port"] for r in otel["spec"]["egress"] for p in r["ports"]] == [4318]
    assert not [o for o in manifests() if o["metadata"]["name"] == "assay-otlp"]
