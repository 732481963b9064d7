"""The environments the read model knows: clusters, registries and ECS accounts with their OU, the
last inventory time and how many images were seen there (the console's Environments page).

Environments are what inventory reported (``image_environments``: one row per image sighting, so
the last inventory time is the newest sighting) plus the clusters configured without an image yet
(``environments``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import msgspec

from services.common.clock import rfc3339
from services.common.store._errors import translated

__all__ = ["EnvironmentRow", "environment_rows"]

_KINDS: Final = {"cluster": "Cluster", "registry": "Registry", "ecs": "ECS account"}


class EnvironmentRow(msgspec.Struct, frozen=True, kw_only=True):
    """One environment: its kind, name, OU, when inventory last reported from it, how many images."""

    environment: str
    kind: str  # Cluster, Registry, ECS account, or the prefix as written
    name: str
    ou: str = ""
    last_seen: str = ""  # RFC 3339, "" when nothing was reported yet
    images: int = 0


async def environment_rows(pool: Any, visible: Sequence[str] | None = None) -> list[EnvironmentRow]:
    """Every environment known from sightings or configuration, by kind and name; only those in
    ``visible`` when given (a caller limited to some environments)."""
    with translated("list environments"):
        rows = await pool.fetch(
            """
            SELECT environment, max(ou) AS ou, max(last_seen) AS last_seen, count(DISTINCT digest) AS images
            FROM (SELECT environment, ou, last_seen, digest FROM image_environments
                  UNION ALL
                  SELECT kind || ':' || name, ou, NULL, NULL FROM environments) AS e
            WHERE $1::text[] IS NULL OR environment = ANY($1)
            GROUP BY environment ORDER BY environment
            """,
            list(visible) if visible is not None else None,
        )
    out = []
    for r in rows:
        prefix, _, name = r["environment"].partition(":")
        out.append(
            EnvironmentRow(
                environment=r["environment"],
                kind=_KINDS.get(prefix, prefix),
                name=name or prefix,
                ou=r["ou"] or "",
                last_seen=rfc3339(r["last_seen"]) if r["last_seen"] is not None else "",
                images=r["images"],
            )
        )
    return out
