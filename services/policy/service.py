"""The policy service's core: detections in, stored findings and published events out.

Idempotent on the scan id: a redelivered ``ScanCompleted`` updates nothing new in the
store; its findings are published again with state ``unchanged`` so no subscriber misses
one when the first attempt died between storing and publishing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec

from schemas.events import Alert, Event, FindingEvent, ScanCompleted, ScanFailed
from schemas.topics import Topics
from services.common.runner import Handler, Outgoing
from services.common.store.postgres import Store
from services.engine.core import utcnow
from services.policy.ruleset import Ruleset, evaluate
from services.vulndb.coverage import scan_gaps


def make_policy_handler(store: Store, ruleset: Ruleset) -> Handler:
    """The handler for ``assay.detections.v1``."""

    async def handle(event: Event) -> Sequence[Outgoing]:
        if isinstance(event, ScanFailed):
            await store.set_status(event.digest, "failed", scan_id=event.scan_id, error=event.error)
            return []
        if not isinstance(event, ScanCompleted):
            return []
        digest = event.image.digest
        environments = await store.environments(digest)
        today = dt.date.fromisoformat(utcnow()[:10])
        outcome = evaluate(
            ruleset,
            digest=digest,
            matches=event.matches,
            environment=", ".join(environments),
            gaps=scan_gaps(event.notes, event.image.distro, today),
        )
        await store.save_scan(
            event.scan_id,
            digest,
            msgspec.json.encode(event.image),
            msgspec.json.encode(event.packages),
            msgspec.json.encode(event.unknowns),
            event.analyzer_version,
        )
        stored = await store.upsert_findings(digest, outcome.findings)
        await store.set_status(digest, "scanned", scan_id=event.scan_id)
        now = utcnow()
        image_ref = event.image.ref
        out = [
            Outgoing(
                Topics.FINDINGS,
                digest,
                FindingEvent(digest=digest, image_ref=image_ref, finding=f, state=state, published_at=now),
            )
            for f, state in stored
        ]
        if outcome.alert_reason:
            alert = Alert(
                digest=digest,
                image_ref=image_ref,
                ruleset=ruleset.name,
                counts=outcome.counts,
                reason=outcome.alert_reason,
                raised_at=now,
            )
            out.append(Outgoing(Topics.ALERTS, digest, alert))
        return out

    return handle
