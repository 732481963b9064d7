"""One image evaluated under every ruleset assigned to its environments, applied to the store,
and turned into the lifecycle events and alerts to publish. Shared by the handler and rematch."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Sequence

from schemas.events import Alert, FindingEvent
from schemas.records import CoverageGap, Detection, Finding, VulnMatch
from schemas.topics import Topics
from schemas.vocabulary import LifecycleState
from services.common.runner import Outgoing
from services.common.store.postgres import Store
from services.policy.catalog import Rulesets
from services.policy.ruleset import DEFAULT_NAME, Outcome, Ruleset, evaluate
from services.policy.store import Lifecycle
from services.policy.suppress_accept import accept

__all__ = ["REMATCH_CATEGORIES", "evaluate_image", "lifecycle_events", "ruleset_groups"]

log = logging.getLogger(__name__)

# What a rematch re-evaluates (and may resolve): the advisory-database side of the findings.
REMATCH_CATEGORIES: tuple[str, ...] = ("CVE", "Coverage", "ImageScan")


async def ruleset_groups(store: Store, rulesets: Rulesets, digest: str) -> dict[str, list[str]]:
    """Ruleset name -> the environments of ``digest`` it applies to (``{"default": []}`` for an
    image seen nowhere). An assignment naming a ruleset this process does not know falls back
    to ``default``, with a warning."""
    groups: dict[str, list[str]] = {}
    for environment, name in (await Lifecycle(store.pool).environment_rulesets(digest)).items():
        if name not in rulesets:
            log.warning("policy: %s is assigned unknown ruleset %r; using default", environment, name)
            name = DEFAULT_NAME
        groups.setdefault(name, []).append(environment)
    return groups or {DEFAULT_NAME: []}


def lifecycle_events(
    changes: Sequence[tuple[Finding, LifecycleState]],
    *,
    digest: str,
    image_ref: str,
    evaluation_id: str,
    now: str,
) -> list[Outgoing]:
    """One ``FindingEvent`` per change, keyed by finding id."""
    return [
        Outgoing(
            Topics.FINDINGS,
            f.finding_id,
            FindingEvent(
                digest=digest,
                image_ref=image_ref,
                finding=f,
                state=state,
                published_at=now,
                evaluation=evaluation_id,
            ),
        )
        for f, state in changes
    ]


def _alert(
    outcome: Outcome,
    changes: Sequence[tuple[Finding, LifecycleState]],
    *,
    digest: str,
    image_ref: str,
    ruleset: str,
    now: str,
) -> list[Outgoing]:
    """An ``Alert`` when this evaluation made the ImageScan finding new or changed it (not suppressed);
    a redelivery of that evaluation (the ImageScan comes back ``unchanged``) raises it again."""
    raised = any(
        f.category == "ImageScan" and state != "resolved" and not f.suppression for f, state in changes
    )
    if not (raised and outcome.alert_reason):
        return []
    alert = Alert(
        digest=digest,
        image_ref=image_ref,
        ruleset=ruleset,
        counts=outcome.counts,
        reason=outcome.alert_reason,
        raised_at=now,
    )
    return [Outgoing(Topics.ALERTS, digest, alert)]


def _outcome(
    ruleset: Ruleset,
    digest: str,
    image_ref: str,
    now: str,
    matches: Sequence[VulnMatch],
    environments: Sequence[str],
    gaps: Sequence[CoverageGap],
    detections: Sequence[Detection],
    *,
    carried: Sequence[Finding],
) -> Outcome:
    """One image under one ruleset, the ruleset's acceptance applied first (its ignore files, VEX
    documents and ``ignore_unfixed``, as ``assay scan`` applies them): what it accepts is suppressed."""
    today = dt.date.fromisoformat(now[:10])
    accepted = accept(ruleset.acceptance, matches, digest=digest, image_ref=image_ref, today=today)
    return evaluate(
        ruleset,
        digest=digest,
        matches=accepted.kept,
        accepted=accepted.dropped,
        environment=", ".join(environments),
        gaps=gaps,
        detections=detections,
        carried=carried,
        image_ref=image_ref,
    )


async def evaluate_image(
    store: Store,
    rulesets: Rulesets,
    *,
    evaluation_id: str,
    digest: str,
    image_ref: str,
    now: str,
    matches: Sequence[VulnMatch] = (),
    gaps: Sequence[CoverageGap] = (),
    detections: Sequence[Detection] = (),
    categories: Collection[str] | None = None,
    resolve_unassigned: bool = False,
) -> list[Outgoing]:
    """Evaluate ``digest`` under each ruleset its environments resolve to, store, and return events.

    ``categories`` limits what the evaluation covers (None: everything); a rematch passes
    ``REMATCH_CATEGORIES`` and the stored detection findings are carried for the thresholds.
    ``resolve_unassigned``: resolve the findings of rulesets that no longer apply to the image.
    """
    out: list[Outgoing] = []
    lifecycle = Lifecycle(store.pool)
    groups = await ruleset_groups(store, rulesets, digest)
    for name, environments in groups.items():
        ruleset = rulesets[name]
        carried: list[Finding] = []
        if categories is not None:
            carried = [
                f for f in await lifecycle.active_findings(digest, name) if f.category not in categories
            ]
        outcome = _outcome(
            ruleset, digest, image_ref, now, matches, environments, gaps, detections, carried=carried
        )
        changes = await lifecycle.apply_evaluation(
            evaluation_id=evaluation_id,
            digest=digest,
            ruleset=name,
            findings=outcome.findings,
            categories=categories,
        )
        out += lifecycle_events(
            changes, digest=digest, image_ref=image_ref, evaluation_id=evaluation_id, now=now
        )
        out += _alert(outcome, changes, digest=digest, image_ref=image_ref, ruleset=name, now=now)
    if resolve_unassigned:
        for stale in sorted(set(await lifecycle.rulesets_of(digest)) - set(groups)):
            changes = await lifecycle.apply_evaluation(
                evaluation_id=evaluation_id, digest=digest, ruleset=stale, findings=[], categories=categories
            )
            out += lifecycle_events(
                changes, digest=digest, image_ref=image_ref, evaluation_id=evaluation_id, now=now
            )
    return out
