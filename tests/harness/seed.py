"""Putting images and findings into a real store the way the services do (dedupe's claim, the
policy's lifecycle), for tests that read them back."""

from __future__ import annotations

from collections.abc import Sequence

from schemas import Finding
from schemas.vocabulary import LifecycleState
from services.common.store.postgres import Store
from services.dedupe.store.claims import Claimed, Claims, Sighting
from services.policy.store import Lifecycle


async def sight(
    store: Store,
    *,
    digest: str,
    image_ref: str,
    environment: str,
    repository: str,
    tag: str = "",
    ou: str = "",
) -> list[Claimed]:
    """Dedupe's claim of one sighting: the image row and its environment link."""
    sighting = Sighting(
        digest=digest, image_ref=image_ref, environment=environment, repository=repository, tag=tag, ou=ou
    )
    return await Claims(store.pool).claim([sighting], analysis_version="test", max_image_bytes=0)


async def evaluate(
    store: Store, digest: str, findings: Sequence[Finding], *, evaluation_id: str
) -> list[tuple[Finding, LifecycleState]]:
    """Store ``findings`` of ``digest`` as one policy evaluation per ruleset they name."""
    out: list[tuple[Finding, LifecycleState]] = []
    for ruleset in dict.fromkeys(f.ruleset for f in findings):
        out += await Lifecycle(store.pool).apply_evaluation(
            evaluation_id=evaluation_id,
            digest=digest,
            ruleset=ruleset,
            findings=[f for f in findings if f.ruleset == ruleset],
        )
    return out
