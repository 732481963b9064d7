"""Tracer providers, the JSON-lines exporter and W3C propagation over Kafka headers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from opentelemetry import trace

from services.common.errors import ConfigError
from services.common.telemetry import build_tracer_provider, extract, inject


def test_file_exporter_writes_one_line_per_span(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "spans.jsonl"
    provider = build_tracer_provider("svc", f"file:{path}")
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("outer") as outer, tracer.start_as_current_span("inner") as inner:
        inner.set_attribute("n", 3)
    provider.shutdown()

    inner_rec, outer_rec = (json.loads(line) for line in path.read_text().splitlines())
    assert inner_rec["name"] == "inner"
    assert inner_rec["trace_id"] == outer_rec["trace_id"] == f"{outer.get_span_context().trace_id:032x}"
    assert inner_rec["parent_span_id"] == outer_rec["span_id"]
    assert outer_rec["parent_span_id"] is None
    assert inner_rec["service"] == "svc"
    assert inner_rec["attributes"] == {"n": 3}
    assert inner_rec["start_ns"] <= inner_rec["end_ns"]


def test_inject_and_extract_round_trip_through_headers() -> None:
    provider = build_tracer_provider("svc", "")
    tracer = provider.get_tracer("t")
    headers: list[tuple[str, bytes]] = [("traceparent", b"stale"), ("other", b"kept")]
    with tracer.start_as_current_span("producer") as span:
        inject(headers)
    names = [k for k, _ in headers]
    assert names.count("traceparent") == 1
    assert "other" in names
    ctx = trace.get_current_span(extract(headers)).get_span_context()
    assert ctx.trace_id == span.get_span_context().trace_id
    assert ctx.span_id == span.get_span_context().span_id
    assert not trace.get_current_span(extract([])).get_span_context().is_valid


@pytest.mark.parametrize("exporter", ["zipkin", "file:"])
def test_bad_exporter_setting_is_a_config_error(exporter: str) -> None:
    with pytest.raises(ConfigError, match="ASSAY_OTEL_EXPORTER"):
        build_tracer_provider("svc", exporter)


def test_setup_telemetry_sets_the_global_provider_once(tmp_path: Path) -> None:
    # In a child process: the global provider cannot be reset inside the test session.
    path = tmp_path / "spans.jsonl"
    script = textwrap.dedent(
        f"""
        from opentelemetry import trace
        from services.common.errors import ConfigError
        from services.common.telemetry import setup_telemetry
        provider = setup_telemetry("child", "file:{path}")
        with trace.get_tracer("t").start_as_current_span("global"):
            pass
        try:
            setup_telemetry("child", "")
        except ConfigError:
            print("refused")
        provider.shutdown()
        """
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "refused"
    [record] = [json.loads(line) for line in path.read_text().splitlines()]
    assert record["name"] == "global"
    assert record["service"] == "child"
