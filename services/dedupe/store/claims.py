"""Durable scan claims: which digest gets a scan request, when, and under which scan id.

A claim is the ``images`` row plus a request marker (migration 0002): ``requested_at`` says a
scan was decided, ``published_at`` that the broker acknowledged its ``ScanRequested``. Dedupe
claims a whole consumer batch of sightings in **one statement** (``claim``), publishes the
requests it gets back, and confirms them (``mark_published``) before committing its offsets:

* a digest never seen, or seen only where it cannot be pulled (``scannable`` false), and now
  seen scannable: requested (``new``), or marked ``too_large`` when the sighting's size is over
  the limit;
* a digest scanned (or failed, or too large) under another analysis version: requested again
  (``analyzer-changed``) with the next scan generation, hence a new scan id;
* a digest requested but never confirmed published (a crash or publish failure between the
  claim and the broker's ack): the same request again, same scan id;
* anything else (requested and published, scanning, done under this version): nothing.

``INSERT … ON CONFLICT DO UPDATE … WHERE`` locks the row and evaluates the transition on its
latest version, so among concurrent replicas exactly one moves a digest to a new request.
``sweep`` re-requests scans still open past the scan timeout; confirming, marking a scan started
and rescanning on purpose are the shared ``services/common/store/requests.py`` (``Requests``).
Scan ids are ``scan_id_for(digest, analysis_version, generation)``, computed in SQL and here alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from services.common.store._errors import translated
from services.common.store.requests import (
    ENVIRONMENTS,
    Claimed,
    Requests,
    claimed_row,
    scan_id_for,
    scan_id_sql,
)

__all__ = ["Claimed", "Claims", "Sighting", "scan_id_for"]


class Sighting(msgspec.Struct, frozen=True, kw_only=True):
    """One sighting of an image in an environment, as dedupe claims it."""

    digest: str
    image_ref: str
    environment: str
    repository: str
    tag: str = ""
    ou: str = ""
    scannable: bool = True
    size_bytes: int = 0


_TOO_LARGE = "(d.scannable AND $10::bigint > 0 AND d.size_bytes > $10::bigint)"
_REQUEST = f"(d.scannable AND NOT {_TOO_LARGE})"

# The transitions of an existing row (alias i) seen again in a sighting (EXCLUDED).
_REPUBLISH = "(i.status = 'pending' AND i.requested_at IS NOT NULL AND i.published_at IS NULL)"
_FIRST = "(i.status = 'pending' AND i.requested_at IS NULL AND EXCLUDED.scannable)"
_CHANGED = (
    "(EXCLUDED.scannable AND i.status IN ('scanned', 'failed', 'too_large')"
    " AND i.analysis_version IS DISTINCT FROM $9::text)"
)
_EX_TOO_LARGE = "(EXCLUDED.status = 'too_large')"

_CLAIM = f"""
WITH s AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::bool[], $8::bigint[])
        AS s(digest, image_ref, environment, repository, tag, ou, scannable, size_bytes)
),
d AS (
    SELECT digest,
           (array_agg(image_ref ORDER BY scannable DESC))[1] AS image_ref,
           bool_or(scannable) AS scannable,
           max(size_bytes) AS size_bytes
    FROM s GROUP BY digest
),
up AS (
    INSERT INTO images AS i (digest, image_ref, status, error, scannable, size_bytes, requested_at,
                             scan_generation, analysis_version, request_reason, request_attempts, scan_id)
    SELECT d.digest, d.image_ref,
           CASE WHEN {_TOO_LARGE} THEN 'too_large' ELSE 'pending' END,
           CASE WHEN {_TOO_LARGE} THEN format('image is %s bytes, over max_image_size_mb (%s bytes)',
                                              d.size_bytes, $10::bigint) END,
           d.scannable, d.size_bytes,
           CASE WHEN {_REQUEST} THEN now() END,
           CASE WHEN {_REQUEST} THEN 1 ELSE 0 END,
           $9::text,
           CASE WHEN {_REQUEST} THEN 'new' ELSE '' END,
           CASE WHEN {_REQUEST} THEN 1 ELSE 0 END,
           CASE WHEN {_REQUEST} THEN {scan_id_sql("d.digest", "$9::text", "1")} END
    FROM d
    ON CONFLICT (digest) DO UPDATE SET
        status = CASE WHEN {_REPUBLISH} THEN i.status WHEN {_EX_TOO_LARGE} THEN 'too_large'
                      ELSE 'pending' END,
        error = CASE WHEN {_REPUBLISH} THEN i.error ELSE EXCLUDED.error END,
        image_ref = CASE WHEN {_FIRST} OR i.image_ref IS NULL THEN EXCLUDED.image_ref ELSE i.image_ref END,
        scannable = i.scannable OR EXCLUDED.scannable,
        size_bytes = GREATEST(i.size_bytes, EXCLUDED.size_bytes),
        requested_at = CASE WHEN {_REPUBLISH} THEN i.requested_at WHEN {_EX_TOO_LARGE} THEN NULL
                            ELSE now() END,
        published_at = NULL,
        started_at = CASE WHEN {_REPUBLISH} THEN i.started_at END,
        scan_generation = CASE WHEN {_REPUBLISH} OR {_EX_TOO_LARGE} THEN i.scan_generation
                               ELSE i.scan_generation + 1 END,
        analysis_version = CASE WHEN {_REPUBLISH} THEN i.analysis_version ELSE $9::text END,
        request_reason = CASE WHEN {_REPUBLISH} THEN i.request_reason WHEN {_FIRST} THEN 'new'
                              ELSE 'analyzer-changed' END,
        request_attempts = CASE WHEN {_REPUBLISH} THEN i.request_attempts WHEN {_EX_TOO_LARGE} THEN 0
                                ELSE 1 END,
        scan_id = CASE WHEN {_REPUBLISH} OR {_EX_TOO_LARGE} THEN i.scan_id
                       ELSE {scan_id_sql("i.digest", "$9::text", "i.scan_generation + 1")} END,
        updated_at = now()
    WHERE {_REPUBLISH} OR {_FIRST} OR {_CHANGED}
    RETURNING i.digest, i.image_ref, i.scan_id, i.request_reason, i.status, i.requested_at,
              i.published_at
),
link AS (
    INSERT INTO image_environments AS e (digest, environment, repository, tag, ou)
    SELECT digest, environment, repository, tag, ou FROM s
    ON CONFLICT (digest, environment, repository, tag) DO UPDATE SET last_seen = now(), ou = EXCLUDED.ou
)
SELECT digest, image_ref, scan_id, request_reason FROM up
WHERE status = 'pending' AND requested_at IS NOT NULL AND published_at IS NULL
"""

_SWEEP = f"""
WITH stuck AS (
    SELECT digest FROM images
    WHERE status IN ('pending', 'scanning') AND requested_at IS NOT NULL
      AND GREATEST(requested_at, started_at) < now() - make_interval(secs => $1::float8)
    ORDER BY requested_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE images AS i SET
    status = CASE WHEN i.request_attempts >= $2 THEN 'failed' ELSE 'pending' END,
    error = CASE WHEN i.request_attempts >= $2
                 THEN format('no scan result after %s requests of scan %s (each timed out after %s s)',
                             i.request_attempts, i.scan_id, $1::float8)
                 ELSE i.error END,
    requested_at = now(),
    published_at = NULL,
    started_at = NULL,
    request_attempts = i.request_attempts + CASE WHEN i.request_attempts >= $2 THEN 0 ELSE 1 END,
    request_reason = CASE WHEN i.request_attempts >= $2 THEN i.request_reason ELSE 'retry' END,
    updated_at = now()
FROM stuck WHERE i.digest = stuck.digest
RETURNING i.digest, i.image_ref, i.scan_id, i.request_reason, i.status, {ENVIRONMENTS}
"""


class Claims(Requests):
    """Dedupe's claim statements on an asyncpg pool: ``Claims(store.pool)``; with the request
    statements every service shares (``Requests``: confirm, mark scanning, rescan)."""

    async def claim(
        self, sightings: Sequence[Sighting], *, analysis_version: str, max_image_bytes: int
    ) -> list[Claimed]:
        """Link every sighting and claim the digests that need a scan request: one statement.

        Returns the requests to publish, one per digest at most. ``max_image_bytes`` 0: no limit.
        """
        if not sightings:
            return []
        # one row per link: ON CONFLICT may not touch a row twice in one statement (last one wins)
        links = {(s.digest, s.environment, s.repository, s.tag): s for s in sightings}
        rows = list(links.values())
        environments: dict[str, set[str]] = {}
        for s in rows:
            environments.setdefault(s.digest, set()).add(s.environment)
        with translated(f"claim {len(rows)} sightings"):
            records = await self._pool.fetch(
                _CLAIM,
                [s.digest for s in rows],
                [s.image_ref for s in rows],
                [s.environment for s in rows],
                [s.repository for s in rows],
                [s.tag for s in rows],
                [s.ou for s in rows],
                [s.scannable for s in rows],
                [s.size_bytes for s in rows],
                analysis_version,
                max_image_bytes,
            )
        return [
            Claimed(
                digest=r["digest"],
                image_ref=r["image_ref"],
                scan_id=r["scan_id"],
                reason=r["request_reason"],
                environments=sorted(environments.get(r["digest"], ())),
            )
            for r in records
        ]

    async def sweep(self, *, timeout_s: float, max_attempts: int, limit: int = 1000) -> list[Claimed]:
        """Re-request scans still requested or scanning ``timeout_s`` after their last request.

        A scan requested ``max_attempts`` times already is marked ``failed`` instead. Rows are
        taken with ``SKIP LOCKED``, so concurrent sweepers (replicas) never re-request one twice.
        """
        with translated("sweep stuck scan requests"):
            records = await self._pool.fetch(_SWEEP, timeout_s, max_attempts, limit)
        return [claimed_row(r) for r in records if r["status"] == "pending"]
