"""What the gate reads from the store: an image's scan status, where it runs, and the policy's verdicts.

Two short read-only statements over the tables the policy service writes; the gate needs far less
than the API's read model and must not depend on another service's package.
"""

from __future__ import annotations

from typing import Any

import msgspec

from services.common.store._errors import translated

__all__ = ["AdmissionReads", "GateImage"]


class GateImage(msgspec.Struct, frozen=True, kw_only=True):
    """An image as the gate sees it.

    ``ous``: environment -> the OUs it was seen under there. ``ruleset_counts``: ruleset -> its
    current (unresolved, unsuppressed) findings by severity; a ruleset is absent when it has none.
    """

    digest: str
    status: str
    error: str | None = None
    ous: dict[str, list[str]] = {}
    ruleset_counts: dict[str, dict[str, int]] = {}


_IMAGE = """
SELECT i.status, i.error,
       COALESCE((SELECT json_object_agg(x.environment, x.ous) FROM (
           SELECT e.environment, array_agg(DISTINCT e.ou) FILTER (WHERE e.ou <> '') AS ous
           FROM image_environments e WHERE e.digest = i.digest GROUP BY e.environment) x), '{}'::json) AS ous,
       COALESCE((SELECT json_object_agg(r.ruleset, r.counts) FROM (
           SELECT x.ruleset, json_object_agg(x.severity, x.n) AS counts FROM (
               SELECT f.ruleset, upper(f.severity) AS severity, count(*) AS n FROM findings f
               WHERE f.digest = i.digest AND f.state <> 'resolved' AND f.suppression = '' GROUP BY 1, 2) x
           GROUP BY x.ruleset) r), '{}'::json) AS ruleset_counts
FROM images i WHERE i.digest = $1
"""

_VERDICTS = """
SELECT description FROM findings
WHERE digest = $1 AND ruleset = $2 AND category = 'ImageScan' AND state <> 'resolved' AND suppression = ''
ORDER BY finding_id LIMIT 20
"""

_OUS = msgspec.json.Decoder(dict[str, list[str] | None])
_COUNTS = msgspec.json.Decoder(dict[str, dict[str, int]])


class AdmissionReads:
    """The gate's statements on an asyncpg pool: ``AdmissionReads(store.pool)``."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def image(self, digest: str) -> GateImage | None:
        """The image ``digest``, or None when Assay has not seen it."""
        with translated(f"read image {digest}"):
            row = await self._pool.fetchrow(_IMAGE, digest)
        if row is None:
            return None
        ous = {env: sorted(found or ()) for env, found in _OUS.decode(row["ous"]).items()}
        return GateImage(
            digest=digest,
            status=row["status"],
            error=row["error"],
            ous=ous,
            ruleset_counts=_COUNTS.decode(row["ruleset_counts"]),
        )

    async def threshold_findings(self, digest: str, ruleset: str) -> list[str]:
        """The descriptions of the open, unsuppressed ImageScan findings of (``digest``, ``ruleset``)."""
        with translated(f"read the verdicts on {digest}"):
            rows = await self._pool.fetch(_VERDICTS, digest, ruleset)
        return [r["description"] for r in rows]
