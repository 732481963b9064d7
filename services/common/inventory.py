"""The one shape of an inventory source, and the one way its sightings leave (issue 13).

Every place images are found (the registry crawl, ECR, ECS, a Kubernetes cluster's watch, registry
notifications, the node daemon) is an ``InventorySource``: a ``name`` and ``run(publish, stop)``,
which publishes ``ImageDiscovered`` / ``ImageRemoved`` through a ``Publisher`` until ``stop`` is set.
``BusPublisher`` is the publisher every process uses: topic ``assay.inventory.v1``, keyed by the
digest (so one image's sightings and removals stay in order on one partition), each event the
root of its own trace. It lives in ``common`` because the node daemon and the admission gate
publish too, and services do not import each other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Protocol

from opentelemetry import trace

from schemas.events import ImageDiscovered, InventoryEvent
from schemas.topics import Topics
from services.common.bus.interface import Bus
from services.common.runner import publish_event

__all__ = ["BusPublisher", "InventoryEvent", "InventorySource", "Publisher", "until_stopped"]


class Publisher(Protocol):
    """Where inventory events go."""

    async def publish(self, event: InventoryEvent) -> None:
        """Send one event; returns once the bus has acknowledged it."""
        ...


class InventorySource(Protocol):
    """A place images are found: publishes what it sees until ``stop`` is set."""

    @property
    def name(self) -> str:
        """For logs: ``registry crawl``, ``cluster:prod-eu``, ``ecs``, ``webhooks``, ``node``."""
        ...

    async def run(self, publish: Publisher, stop: asyncio.Event) -> None:
        """Publish sightings and removals; return when ``stop`` is set (or a one-pass source is done)."""
        ...


class BusPublisher:
    """``Publisher`` onto ``assay.inventory.v1``; ``published`` counts what it sent."""

    def __init__(self, bus: Bus, *, service: str = "inventory") -> None:
        self._bus = bus
        self._service = service
        self._tracer = trace.get_tracer(f"assay.{service}")
        self.published = 0

    async def publish(self, event: InventoryEvent) -> None:
        attributes = {
            "assay.service": self._service,
            "assay.image.digest": event.digest,
            "assay.environment": event.environment,
        }
        # each sighting starts its own trace: dedupe, the engine and policy continue it
        name = "inventory discover" if isinstance(event, ImageDiscovered) else "inventory remove"
        with self._tracer.start_as_current_span(name, context=None, attributes=attributes):
            await publish_event(self._bus, Topics.INVENTORY, event.digest, event)
        self.published += 1


async def until_stopped(work: Awaitable[None], stop: asyncio.Event) -> None:
    """Run ``work`` until it returns or ``stop`` is set (then cancel it); an error of ``work`` propagates.

    For sources built on a loop that runs until cancelled (a watch, a server).
    """
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, waiter):
            pending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
        if task.cancelled() or not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if not task.cancelled():
        task.result()  # the work's own error, if it ended with one
