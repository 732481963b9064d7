"""Advisory data age: a finding (and an alert) on the system itself when the data is stale.

The updater refreshes the advisory database every ``updater.interval_s``; each successful refresh
moves the newest build's ``checked_at`` forward (``store/builds.py``). When that is more than two
intervals ago, new vulnerabilities are silently not being found: the policy service records a
``Coverage`` finding ``advisory-data-stale`` on the pseudo-image ``assay:system`` and raises an
``Alert``; a later fresh refresh resolves the finding. No build at all (no updater deployed: a
local database kept by ``assay db update``) is not judged here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Final

from schemas.events import Alert
from schemas.records import Finding
from schemas.topics import Topics
from schemas.vocabulary import Category
from services.common.runner import Outgoing
from services.common.store.builds import STALE_ID, SYSTEM_DIGEST, AdvisoryBuild, rfc3339
from services.common.store.postgres import Store
from services.policy.evaluation import lifecycle_events
from services.policy.ruleset import DEFAULT_NAME, finding_id
from services.policy.store import Lifecycle

__all__ = ["STALE_ID", "SYSTEM_DIGEST", "check_freshness", "is_stale", "stale_finding"]

log = logging.getLogger(__name__)

_CATEGORY: Final[Category] = "Coverage"


def is_stale(build: AdvisoryBuild, now: dt.datetime, interval_s: float) -> bool:
    """Whether ``build`` was last refreshed more than two updater intervals before ``now``."""
    return (now - build.checked_at).total_seconds() > 2 * interval_s


def stale_finding(build: AdvisoryBuild, now: dt.datetime, interval_s: float) -> Finding:
    """The finding that says the advisory data is stale."""
    hours = (now - build.checked_at).total_seconds() / 3600
    return Finding(
        finding_id=finding_id(SYSTEM_DIGEST, _CATEGORY, STALE_ID, ""),
        category=_CATEGORY,
        id=STALE_ID,
        severity="HIGH",
        title="Advisory data is stale",
        description=(
            f"advisory build {build.build_id} was last refreshed at {rfc3339(build.checked_at)}, "
            f"{hours:.1f} h ago: more than two updater intervals ({2 * interval_s / 3600:.1f} h). "
            "Newly published vulnerabilities are not being found; check the updater's log."
        ),
        environment="system",
        ruleset=DEFAULT_NAME,
    )


async def check_freshness(store: Store, interval_s: float) -> Sequence[Outgoing]:
    """Record or resolve the stale-data finding as the newest build's age says; the events to publish."""
    build = await store.builds.latest()
    if build is None:
        return []
    now = await store.builds.now()
    stale = is_stale(build, now, interval_s)
    active = [
        f
        for f in await Lifecycle(store.pool).active_findings(SYSTEM_DIGEST, DEFAULT_NAME)
        if f.id == STALE_ID
    ]
    if stale == bool(active):
        return []  # already recorded (or already resolved): nothing new to say
    finding = stale_finding(build, now, interval_s)
    stamp = rfc3339(now)
    evaluation = f"freshness:{stamp}:{'stale' if stale else 'fresh'}"
    changes = await Lifecycle(store.pool).apply_evaluation(
        evaluation_id=evaluation,
        digest=SYSTEM_DIGEST,
        ruleset=DEFAULT_NAME,
        findings=[finding] if stale else [],
        categories=(_CATEGORY,),
    )
    out = lifecycle_events(
        changes, digest=SYSTEM_DIGEST, image_ref="assay", evaluation_id=evaluation, now=stamp
    )
    if stale:
        log.error("advisory data is stale: %s", finding.description)
        alert = Alert(
            digest=SYSTEM_DIGEST,
            image_ref="assay",
            ruleset=DEFAULT_NAME,
            counts={"HIGH": 1},
            reason=finding.description,
            raised_at=stamp,
        )
        out.append(Outgoing(Topics.ALERTS, SYSTEM_DIGEST, alert))
    else:
        log.info("advisory data is fresh again (build %s)", build.build_id)
    return out
