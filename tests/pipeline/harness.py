"""Helpers for pipeline tests: a registry full of fixture images, topic readers, service processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.codec import decode_event
from schemas.events import Event
from services.common.bus.claimcheck import ClaimCheck
from services.common.bus.kafka import KafkaBus
from tests.harness.broker import unique_name
from tests.harness.registry import free_port
from tests.harness.requirements import shared_dir


@dataclass
class Pipeline:
    """Everything a pipeline run needs, and the service processes it started."""

    env: dict[str, str]
    spans: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: Path | None = None

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        assert self.logs is not None
        out = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", *args],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        self.procs[name] = proc
        return proc

    def service(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        return self.start(name, "service", name, *extra)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def log(self, name: str) -> str:
        assert self.logs is not None
        return (self.logs / f"{name}.log").read_text(errors="replace")


def pipeline_env(*, pg_dsn: str, bootstrap: str, registry_host: str, db: Path, work: Path) -> Pipeline:
    """The environment every service process of one test run shares."""
    spans = work / "spans.jsonl"
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update(
        ASSAY_PG_DSN=pg_dsn,
        ASSAY_KAFKA_BOOTSTRAP=bootstrap,
        ASSAY_REGISTRIES=f"{registry_host};insecure",
        ASSAY_DB_PATH=str(db),
        # the advisory mirror, never the internet: `assay up` runs the updater, which reads it
        ASSAY_DB_SOURCE=str(shared_dir() / "vulndata"),
        ASSAY_DATA_DIR=str(work / "data"),
        ASSAY_KAFKA_CONSUMER_GROUP_PREFIX=unique_name("assay-test"),
        ASSAY_OTEL_EXPORTER=f"file:{spans}",
        ASSAY_ENGINE_CONCURRENCY="1",
        ASSAY_API_LISTEN=f"127.0.0.1:{free_port()}",
    )
    return Pipeline(env=env, spans=spans, logs=logs)


async def prepare(pipe: Pipeline) -> None:
    """Create the topics and run the migrations, as ``assay up`` does before starting services."""
    code = (
        "import asyncio; from services.cli.up import _prepare; "
        "from services.settings import load_settings; asyncio.run(_prepare(load_settings()))"
    )
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", code],
        env=pipe.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


async def read_topic(
    bootstrap: str, topic: str, *, quiet_s: float = 2.0, claim_check: ClaimCheck | None = None
) -> list[tuple[str, Event]]:
    """Every record on ``topic`` so far, as (key, event), read by a fresh consumer group
    (``claim_check``: where the services put large payloads, when they do)."""
    bus = KafkaBus(bootstrap, client_id="assay-test-reader", claim_check=claim_check)
    await bus.start()
    consumer = bus.consumer(unique_name("reader"), [topic])
    await consumer.start()
    out: list[tuple[str, Event]] = []
    try:
        deadline = time.monotonic() + 60
        last = time.monotonic()
        while time.monotonic() - last < quiet_s and time.monotonic() < deadline:
            batch = await consumer.fetch(max_records=500, timeout_s=0.5)
            if batch:
                last = time.monotonic()
            for m in batch:
                out.append(((m.key or b"").decode(), decode_event(topic, m.value)))
    finally:
        await consumer.stop()
        await bus.stop()
    return out


def wait_until(
    predicate: Callable[[], bool], *, timeout: float, what: str, procs: Sequence[Any] = ()
) -> None:
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def spans_by_trace(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Finished spans from the shared file exporter, grouped by trace id."""
    traces: dict[str, list[dict[str, Any]]] = {}
    if not path.exists():
        return traces
    for line in path.read_text().splitlines():
        span = json.loads(line)
        traces.setdefault(span["trace_id"], []).append(span)
    return traces


def run(coro: Any) -> Any:
    """Run a coroutine from synchronous test code."""
    return asyncio.run(coro)
