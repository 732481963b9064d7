"""The policy service's core: detections in, stored findings and published lifecycle events out.

Per ``ScanCompleted``: keep the package inventory (for rematching), evaluate the advisory
matches, coverage gaps and content detections under every ruleset assigned to the image's
environments (``evaluation.py``), store them and publish ``new``/``changed``/``resolved``
``FindingEvent``s keyed by finding id, plus an ``Alert`` when a threshold newly passes.

Idempotent on the scan id: a redelivered ``ScanCompleted`` changes nothing in the store and
publishes the findings its first handling changed again, as ``unchanged`` (``resolved`` ones
as ``resolved``), with the same ``evaluation`` id: a crash between storing and publishing loses
no finding, and no ``new`` is ever published twice for one evaluation.
``ScanFailed`` and ``ScanSkipped`` only record the image status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import get_args

from schemas.events import Event, ScanCompleted, ScanFailed, ScanSkipped
from schemas.vocabulary import ImageStatus
from services.common.clock import utcnow
from services.common.runner import Handler, Outgoing
from services.common.store.postgres import Store
from services.policy.catalog import Rulesets
from services.policy.evaluation import evaluate_image
from services.policy.inventories import Inventories
from services.vulndb.coverage import scan_gaps

__all__ = ["make_policy_handler"]


def make_policy_handler(store: Store, rulesets: Rulesets, inventories: Inventories | None = None) -> Handler:
    """The handler for ``assay.detections.v1``; ``inventories`` decides where package inventories
    are kept (default: inline in PostgreSQL)."""
    kept = inventories or Inventories(store)

    async def handle(event: Event) -> Sequence[Outgoing]:
        if isinstance(event, ScanFailed):
            await store.set_status(event.digest, "failed", scan_id=event.scan_id, error=event.error)
            return []
        if isinstance(event, ScanSkipped):
            if event.status not in get_args(ImageStatus):
                # bad input is data: recorded as a failure naming the status, not a stopped service
                reason = f"scan skipped with unknown status {event.status!r}: {event.reason}"
                await store.set_status(event.digest, "failed", scan_id=event.scan_id, error=reason)
                return []
            await store.set_status(event.digest, event.status, scan_id=event.scan_id, error=event.reason)
            return []
        if not isinstance(event, ScanCompleted):
            return []
        digest = event.image.digest
        now = utcnow()
        await kept.save(event)
        out = await evaluate_image(
            store,
            rulesets,
            evaluation_id=event.scan_id,
            digest=digest,
            image_ref=event.image.ref,
            now=now,
            matches=event.matches,
            gaps=scan_gaps(event.notes, event.image.distro, dt.date.fromisoformat(now[:10]), gaps=event.gaps),
            detections=event.detections,
            resolve_unassigned=True,
        )
        await store.set_status(digest, "scanned", scan_id=event.scan_id)
        return out

    return handle
