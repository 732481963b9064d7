"""Publishing scan requests: shared by dedupe (claims, sweep), ``assay rescan`` and the API's rescan.

A request decided in the store (``services/common/store/requests.py``, or dedupe's claims) becomes
a ``ScanRequested`` routed to the sites of its image's environments (registry <-> cluster links),
is published, and is confirmed in the store once the broker has it; until then it stays
requested-but-unpublished and dedupe's next sighting or sweep publishes it again (same scan id).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from schemas.events import ScanRequested
from schemas.topics import Topics
from services.common.bus.interface import Bus
from services.common.clock import utcnow
from services.common.errors import ConfigError
from services.common.runner import Outgoing, publish_event
from services.common.store.links import HasPool, scan_sites_many
from services.common.store.requests import Claimed, Requests

__all__ = ["NoAnalysisVersion", "publish_requests", "recorded_version", "request_event", "request_events"]


class NoAnalysisVersion(ConfigError):
    """No engine has recorded its analysis version yet."""


async def recorded_version(read: Callable[[], Awaitable[str | None]]) -> str:
    """The analysis version the engines recorded (``NoAnalysisVersion`` when none has): a rescan's."""
    version = await read()
    if not version:
        raise NoAnalysisVersion("no engine has recorded its analysis version yet: start an engine first")
    return version


def request_event(claimed: Claimed, sites: Sequence[str] = ()) -> Outgoing:
    """The ``ScanRequested`` for a claim, keyed by digest on ``assay.scan-requests.v1``; ``sites``:
    the clusters whose engines may scan it (``[]``: any engine)."""
    request = ScanRequested(
        scan_id=claimed.scan_id,
        digest=claimed.digest,
        image_ref=claimed.image_ref,
        environments=claimed.environments,
        requested_at=utcnow(),
        reason=claimed.reason,
        sites=list(sites),
    )
    return Outgoing(Topics.SCAN_REQUESTS, claimed.digest, request)


async def request_events(store: HasPool, claimed: Sequence[Claimed]) -> list[Outgoing]:
    """The requests for claims, each routed to the sites of its environments (one query)."""
    sites = await scan_sites_many(store, [c.environments for c in claimed])
    return [request_event(c, s) for c, s in zip(claimed, sites, strict=True)]


async def publish_requests(bus: Bus, requests: Requests, claimed: list[Claimed]) -> None:
    """Publish the requests, wait for their acks, then confirm them in the store."""
    outgoing = await request_events(requests, claimed)
    await asyncio.gather(*(publish_event(bus, o.topic, o.key, o.event) for o in outgoing))
    await requests.mark_published(claimed)
