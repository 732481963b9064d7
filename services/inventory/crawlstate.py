"""The last pass of each polling source, kept in PostgreSQL (migration 0013, table ``crawl_state``).

``Deltas`` diffs a pass against the sightings it last published. Kept only in memory, that
previous pass died with the process, so a tag deleted while inventory was down stayed linked: the
first pass after a restart had nothing to compare with. ``PollingSource`` therefore loads the stored
pass before its first one, and stores each pass after publishing it. One row per sighting (per
registry, repository and tag, and per workload for ECS): its digest, the whole ``ImageDiscovered``
last published, and when a pass last saw it (``last_seen``; a sighting kept from an incomplete
pass keeps its older time).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import msgspec

from schemas.events import ImageDiscovered
from services.common.store._errors import translated
from services.inventory.deltas import sighting_key

__all__ = ["CrawlState"]

_decoder = msgspec.json.Decoder(ImageDiscovered)

_UPSERT = """
INSERT INTO crawl_state AS c
    (source, key, environment, registry, repository, tag, digest, sighting, last_seen)
SELECT $1, u.key, u.environment, u.registry, u.repository, u.tag, u.digest, u.sighting::jsonb,
       CASE WHEN u.seen THEN now() ELSE '-infinity'::timestamptz END
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::boolean[]) AS u(key, environment, registry, repository, tag, digest, sighting, seen)
ON CONFLICT (source, key) DO UPDATE SET
    environment = EXCLUDED.environment, registry = EXCLUDED.registry,
    repository = EXCLUDED.repository, tag = EXCLUDED.tag, digest = EXCLUDED.digest,
    sighting = EXCLUDED.sighting, last_seen = GREATEST(c.last_seen, EXCLUDED.last_seen)
"""


def _key_text(event: ImageDiscovered) -> str:
    return msgspec.json.encode(list(sighting_key(event))).decode()


class CrawlState:
    """The statements, on an asyncpg pool."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def load(self, source: str) -> list[ImageDiscovered]:
        """The sightings ``source`` last stored (none before its first pass)."""
        with translated(f"read the last pass of {source}"):
            rows = await self._pool.fetch(
                "SELECT sighting::text AS sighting FROM crawl_state WHERE source = $1 ORDER BY key", source
            )
        return [_decoder.decode(r["sighting"]) for r in rows]

    async def save(
        self, source: str, known: Sequence[ImageDiscovered], seen: Collection[ImageDiscovered]
    ) -> None:
        """Replace what ``source`` stored with ``known``; ``seen``: those the pass itself saw."""
        seen_keys = {_key_text(e) for e in seen}
        keys = [_key_text(e) for e in known]
        columns = (
            keys,
            [e.environment for e in known],
            [e.registry for e in known],
            [e.repository for e in known],
            [e.tag for e in known],
            [e.digest for e in known],
            [msgspec.json.encode(e).decode() for e in known],
            [k in seen_keys for k in keys],
        )
        with translated(f"store the last pass of {source}"):
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "DELETE FROM crawl_state WHERE source = $1 AND NOT (key = ANY($2::text[]))", source, keys
                )
                await conn.execute(_UPSERT, source, *columns)
