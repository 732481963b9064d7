"""Trace context crosses two services over real Kafka headers into one trace."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

from schemas import (
    ALL_TOPICS,
    Event,
    ImageDiscovered,
    ScanFailed,
    ScanRequested,
    Topics,
    decode_event,
)
from services.common.bus.kafka import KafkaBus
from services.common.runner import Outgoing, publish_event, run_service
from services.common.telemetry import build_tracer_provider
from tests.harness.broker import unique_name


async def test_spans_of_two_services_share_one_trace(kafka_servers: str, tmp_path: Path) -> None:
    spans_file = tmp_path / "spans.jsonl"
    provider = build_tracer_provider("assay-test", f"file:{spans_file}")
    digest = f"sha256:{unique_name('trace')}"
    bus = KafkaBus(kafka_servers)
    await bus.start()
    await bus.ensure_topics(ALL_TOPICS)

    async def dedupe(event: Event) -> Sequence[Outgoing]:
        assert isinstance(event, ImageDiscovered)
        request = ScanRequested(scan_id=f"scan-{event.digest}", digest=event.digest, image_ref="r")
        return [Outgoing(topic=Topics.SCAN_REQUESTS, key=event.digest, event=request)]

    async def engine(event: Event) -> Sequence[Outgoing]:
        assert isinstance(event, ScanRequested)
        failed = ScanFailed(scan_id=event.scan_id, digest=event.digest, image_ref="r", error="test")
        return [Outgoing(topic=Topics.DETECTIONS, key=event.digest, event=failed)]

    stop = asyncio.Event()
    services = [
        asyncio.create_task(
            run_service(
                bus,
                service=name,
                group=unique_name(name),
                topics=[topic],
                handler=handler,
                stop=stop,
                tracer_provider=provider,
            )
        )
        for name, topic, handler in (
            ("dedupe", Topics.INVENTORY, dedupe),
            ("engine", Topics.SCAN_REQUESTS, engine),
        )
    ]
    watcher = bus.consumer(unique_name("watch"), [Topics.DETECTIONS])
    await watcher.start()
    try:
        tracer = provider.get_tracer("test")
        with tracer.start_as_current_span("inventory crawl") as root:
            event = ImageDiscovered(environment="e", registry="r", repository="app", digest=digest)
            await publish_event(bus, Topics.INVENTORY, digest, event)
        root_ctx = root.get_span_context()

        async with asyncio.timeout(60):
            done = False
            while not done:
                for message in await watcher.fetch(max_records=100, timeout_s=0.5):
                    out = decode_event(message.topic, message.value)
                    done = done or (isinstance(out, ScanFailed) and out.digest == digest)
    finally:
        stop.set()
        await asyncio.gather(*services)
        await watcher.stop()
        await bus.stop()
        provider.shutdown()

    spans = [json.loads(line) for line in spans_file.read_text().splitlines()]
    ours = {
        s["name"]: s
        for s in spans
        if s["name"] == "inventory crawl" or s["attributes"].get("messaging.kafka.message.key") == digest
    }
    assert set(ours) == {"inventory crawl", "dedupe handle", "engine handle"}
    trace_id = f"{root_ctx.trace_id:032x}"
    assert {s["trace_id"] for s in ours.values()} == {trace_id}
    assert ours["dedupe handle"]["parent_span_id"] == ours["inventory crawl"]["span_id"]
    assert ours["engine handle"]["parent_span_id"] == ours["dedupe handle"]["span_id"]
    assert ours["engine handle"]["service"] == "engine"
    assert ours["engine handle"]["attributes"]["assay.event.type"] == "scan.requested"
    assert ours["engine handle"]["attributes"]["messaging.destination.name"] == Topics.SCAN_REQUESTS
