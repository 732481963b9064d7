"""``assay service NAME``: one pipeline service in this process, with its lifespan.

The service's entry module (``services/<name>/main.py``, listed in ``registry.py``) declares
what it needs (``NEEDS``) and exposes ``run(resources, stop)``; the one lifespan
(``services/common/lifespan.py``) opens those resources from settings, the service runs until
SIGTERM or SIGINT, finishes the batch in flight, and everything closes in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from services.cli.registry import SERVICES
from services.common.errors import AssayError
from services.common.lifespan import Needs, Resources, lifespan, open_store
from services.common.telemetry import setup_telemetry
from services.dedupe.store.states import image_states
from services.policy.store import stored_findings

if TYPE_CHECKING:
    from services.settings import Settings

RunService = Callable[[Resources["Settings"], asyncio.Event], Awaitable[None]]


@contextlib.asynccontextmanager
async def _stop_on_signals() -> AsyncIterator[asyncio.Event]:
    """An event set by SIGTERM or SIGINT: the service drains and returns."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _serve(settings: Settings, name: str, *, once: bool) -> None:
    """Open the service's resources (its ``NEEDS``), run it until a signal, close everything."""
    module = importlib.import_module(SERVICES[name].module)
    needs: Needs = module.NEEDS
    run: RunService = module.run
    async with _stop_on_signals() as stop, lifespan(settings, name, needs, burst=once) as resources:
        await run(resources, stop)


async def run_named_service(settings: Settings, name: str, *, once: bool = False) -> int:
    """Run one service until it is told to stop; returns the exit code."""
    provider = setup_telemetry(f"assay-{name}", settings.otel.exporter)
    try:
        await _serve(settings, name, once=once)
    except AssayError as exc:
        print(f"assay {name}: error: {exc}", file=sys.stderr)
        return 2
    finally:
        provider.shutdown()
    return 0


async def print_findings(settings: Settings) -> int:
    """Print every stored finding, one line each, most severe first."""
    try:
        async with open_store(settings.pg) as store:
            images = await image_states(store.pool)
            findings = await stored_findings(store.pool)
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return 2
    for image in images:
        envs = ", ".join(image.get("environments") or [])
        print(f"{image['status']:<9} {image['digest']} {image['image_ref']} [{envs}]")
        if image.get("error"):
            print(f"          error: {image['error']}")
    print(f"\n{len(findings)} findings")
    for f in findings:
        print(
            f"{f.severity:<9} {f.category:<9} {f.id:<22} {f.package_name} {f.installed_version} "
            f"-> {f.fixed_version or '-'}  ({f.environment})"
        )
    return 0
