"""Scan requests on the ``images`` table that several services make, beside dedupe's claims.

Dedupe claims sightings and sweeps stuck requests (``services/dedupe/store/claims.py``); the
statements here are the ones others need too: the engine marks a requested scan ``scanning``
when it starts, ``assay rescan`` and the API's rescan route request a new generation on purpose,
and whoever published a request confirms it (``mark_published``). Scan ids are
``scan_id_for(digest, analysis_version, generation)``, computed in SQL (``scan_id_sql``) and
here alike, so a re-published request names the same scan and a rescan a new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Final

import msgspec

from schemas.vocabulary import ScanReason
from services.common.store._errors import translated

__all__ = ["ENVIRONMENTS", "Claimed", "Requests", "claimed_row", "scan_id_for", "scan_id_sql"]


def scan_id_for(digest: str, analysis_version: str, generation: int) -> str:
    """The deterministic scan id of a digest's ``generation``-th scan under ``analysis_version``.

    The same as ``scan_id_sql``, so a redelivered or re-published request names the same scan,
    and a rescan (next generation) a new one.
    """
    return hashlib.sha256(f"{digest}|{analysis_version}|{generation}".encode()).hexdigest()[:24]


def scan_id_sql(digest: str, version: str, generation: str) -> str:
    """The SQL expression of ``scan_id_for`` over the given column expressions."""
    return (
        f"left(encode(sha256(convert_to({digest} || '|' || {version} || '|' || ({generation})::text,"
        " 'UTF8')), 'hex'), 24)"
    )


class Claimed(msgspec.Struct, frozen=True, kw_only=True):
    """A scan request to publish: the claim (or sweep, or rescan) decided it."""

    digest: str
    image_ref: str
    scan_id: str
    reason: ScanReason
    environments: list[str] = []


_MARK_PUBLISHED: Final = """
UPDATE images AS i SET published_at = now()
FROM unnest($1::text[], $2::text[]) AS p(digest, scan_id)
WHERE i.digest = p.digest AND i.scan_id = p.scan_id AND i.published_at IS NULL
"""

_MARK_SCANNING: Final = """
UPDATE images SET status = 'scanning', started_at = now(), updated_at = now()
WHERE digest = $1 AND scan_id = $2 AND status = 'pending'
"""

# An image's environments, for a statement over ``images`` aliased ``i``.
ENVIRONMENTS: Final = """
COALESCE((SELECT array_agg(DISTINCT e.environment ORDER BY e.environment)
          FROM image_environments e WHERE e.digest = i.digest), '{}') AS environments
"""

_RESCAN: Final = f"""
UPDATE images AS i SET
    status = 'pending', error = NULL, requested_at = now(), published_at = NULL, started_at = NULL,
    scan_generation = i.scan_generation + 1,
    analysis_version = $2::text,
    request_reason = 'requested',
    request_attempts = 1,
    scan_id = {scan_id_sql("i.digest", "$2::text", "i.scan_generation + 1")},
    updated_at = now()
WHERE i.scannable AND i.image_ref IS NOT NULL AND ($1::text[] IS NULL OR i.digest = ANY($1::text[]))
RETURNING i.digest, i.image_ref, i.scan_id, i.request_reason, {ENVIRONMENTS}
"""


class Requests:
    """The shared request statements on an asyncpg pool: ``Requests(store.pool)``."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @property
    def pool(self) -> Any:
        """The asyncpg pool (request routing reads the registry links through it)."""
        return self._pool

    async def mark_published(self, claimed: Sequence[Claimed]) -> None:
        """Record that the broker acknowledged these requests (so a redelivery does not repeat them)."""
        if not claimed:
            return
        with translated(f"confirm {len(claimed)} scan requests"):
            await self._pool.execute(
                _MARK_PUBLISHED, [c.digest for c in claimed], [c.scan_id for c in claimed]
            )

    async def mark_scanning(self, digest: str, scan_id: str) -> bool:
        """An engine started scan ``scan_id``: ``pending`` becomes ``scanning``. False if not pending."""
        with translated(f"mark {digest} scanning"):
            result = await self._pool.execute(_MARK_SCANNING, digest, scan_id)
        return bool(result.endswith(" 1"))

    async def rescan(self, digests: Sequence[str] | None, *, analysis_version: str) -> list[Claimed]:
        """Request a new scan (next generation, new scan id) of ``digests``, or of every image.

        Images never seen where they can be pulled are left alone. The caller publishes the
        requests and confirms them with ``mark_published``.
        """
        with translated("request rescans"):
            records = await self._pool.fetch(
                _RESCAN, list(digests) if digests is not None else None, analysis_version
            )
        return [claimed_row(r) for r in records]


def claimed_row(r: Any) -> Claimed:
    """A ``Claimed`` from a row returning digest, image_ref, scan_id, request_reason, environments."""
    return Claimed(
        digest=r["digest"],
        image_ref=r["image_ref"],
        scan_id=r["scan_id"],
        reason=r["request_reason"],
        environments=list(r["environments"]),
    )
