"""The policy service's persistence: finding lifecycle, ruleset resolution and policy state.

``Lifecycle.apply_evaluation`` replaces the findings of one (digest, ruleset) within the
categories an evaluation covers, inside one transaction holding a per-digest advisory lock; the
rule itself (new, changed, resolved) is the pure ``services.policy.lifecycle.diff``.

Each applied evaluation is recorded in ``policy_evaluations``; applying the same evaluation id
again (a redelivered ``ScanCompleted``) changes nothing and returns the findings the first
application changed (those whose ``changed_by`` it still is) as ``unchanged`` (``resolved`` ones
as ``resolved`` again): a crash between storing and publishing loses no finding, and a
redelivery never repeats a ``new``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Final

from schemas.records import Finding
from schemas.vocabulary import LifecycleState, severity_rank_sql
from services.common.store._errors import translated
from services.common.store.finding_rows import FINDING_COLUMNS, FINDING_SELECT, finding_values, row_finding
from services.policy.lifecycle import Stored, diff

__all__ = ["Lifecycle", "stored_findings"]

_UPDATES: Final = ", ".join(f"{c} = EXCLUDED.{c}" for c in FINDING_COLUMNS[1:])
_UPSERT: Final = f"""
INSERT INTO findings (digest, state, changed_by, {", ".join(FINDING_COLUMNS)},
                      first_seen, last_seen, state_changed_at)
VALUES ($1, $2, $3, {", ".join(f"${i + 4}" for i in range(len(FINDING_COLUMNS)))}, now(), now(), now())
ON CONFLICT (finding_id) DO UPDATE SET
    digest = EXCLUDED.digest, {_UPDATES},
    state_changed_at = CASE WHEN findings.state IS DISTINCT FROM EXCLUDED.state
                              OR findings.changed_by IS DISTINCT FROM EXCLUDED.changed_by
                            THEN now() ELSE findings.state_changed_at END,
    state = EXCLUDED.state, changed_by = EXCLUDED.changed_by, last_seen = now()
"""


def _digest_lock(digest: str) -> str:
    return f"assay-findings:{digest}"


class Lifecycle:
    """The policy's statements on an asyncpg pool: ``Lifecycle(store.pool)``."""

    def __init__(self, pool: Any) -> None:
        """Share ``pool`` with the ``Store`` that opened it."""
        self._pool = pool

    async def apply_evaluation(
        self,
        *,
        evaluation_id: str,
        digest: str,
        ruleset: str,
        findings: Sequence[Finding],
        categories: Collection[str] | None = None,
    ) -> list[tuple[Finding, LifecycleState]]:
        """Make ``findings`` the findings of (``digest``, ``ruleset``) within ``categories``
        (None: every category); the lifecycle changes, in ``findings`` order then resolved ones.

        Findings stored for other categories are left alone (a rematch covers CVE and Coverage
        findings only: content detections are not in the advisory database).
        """
        with translated(f"apply evaluation {evaluation_id} to {digest}"):
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", _digest_lock(digest)
                )
                inserted = await conn.fetchval(
                    """
                    INSERT INTO policy_evaluations (evaluation_id, digest, ruleset) VALUES ($1, $2, $3)
                    ON CONFLICT DO NOTHING RETURNING true
                    """,
                    evaluation_id,
                    digest,
                    ruleset,
                )
                if not inserted:
                    return await self._replay(conn, evaluation_id, digest, ruleset)
                rows = await conn.fetch(
                    f"SELECT {FINDING_SELECT}, changed_by FROM findings WHERE digest = $1 AND ruleset = $2",
                    digest,
                    ruleset,
                )
                stored = {r["finding_id"]: Stored(row_finding(r), r["state"], r["changed_by"]) for r in rows}
                result = diff(stored, findings, evaluation_id=evaluation_id, categories=categories)
                if result.writes:
                    await conn.executemany(
                        _UPSERT,
                        [(digest, w.state, w.changed_by, *finding_values(w.finding)) for w in result.writes],
                    )
                if result.resolved:
                    await conn.execute(
                        """
                        UPDATE findings SET state = 'resolved', changed_by = $2, state_changed_at = now()
                        WHERE finding_id = ANY($1::text[])
                        """,
                        [f.finding_id for f in result.resolved],
                        evaluation_id,
                    )
                return result.changes

    async def _replay(
        self, conn: Any, evaluation_id: str, digest: str, ruleset: str
    ) -> list[tuple[Finding, LifecycleState]]:
        rows = await conn.fetch(
            f"""
            SELECT {FINDING_SELECT} FROM findings
            WHERE digest = $1 AND ruleset = $2 AND changed_by = $3 AND state IN ('new', 'changed', 'resolved')
            ORDER BY finding_id
            """,
            digest,
            ruleset,
            evaluation_id,
        )
        return [(row_finding(r), "resolved" if r["state"] == "resolved" else "unchanged") for r in rows]

    async def active_findings(
        self, digest: str, ruleset: str, categories: Collection[str] | None = None
    ) -> list[Finding]:
        """The findings of (``digest``, ``ruleset``) not resolved, optionally of ``categories`` only."""
        with translated(f"read the findings of {digest}"):
            rows = await self._pool.fetch(
                f"""
                SELECT {FINDING_SELECT} FROM findings
                WHERE digest = $1 AND ruleset = $2 AND state <> 'resolved'
                  AND ($3::text[] IS NULL OR category = ANY($3::text[]))
                ORDER BY finding_id
                """,
                digest,
                ruleset,
                list(categories) if categories is not None else None,
            )
        return [row_finding(r) for r in rows]

    async def rulesets_of(self, digest: str) -> list[str]:
        """The rulesets that have findings (not resolved) about ``digest``."""
        with translated(f"read the rulesets of {digest}"):
            rows = await self._pool.fetch(
                "SELECT DISTINCT ruleset FROM findings WHERE digest = $1 AND state <> 'resolved' ORDER BY 1",
                digest,
            )
        return [r["ruleset"] for r in rows]

    async def finding_states(self, digest: str) -> dict[str, str]:
        """Finding id -> stored lifecycle state, for every finding of ``digest``."""
        with translated(f"read the finding states of {digest}"):
            rows = await self._pool.fetch("SELECT finding_id, state FROM findings WHERE digest = $1", digest)
        return {r["finding_id"]: r["state"] for r in rows}

    async def environment_rulesets(self, digest: str) -> dict[str, str]:
        """Environment -> assigned ruleset name, for each environment ``digest`` was seen in.

        Precedence: the environment's own assignment, else its OU's, else ``default``.
        """
        with translated(f"resolve the rulesets of {digest}"):
            rows = await self._pool.fetch(
                """
                SELECT e.environment,
                       COALESCE(min(ea.ruleset), min(oa.ruleset), 'default') AS ruleset
                FROM image_environments e
                LEFT JOIN ruleset_assignments ea ON ea.scope = 'environment' AND ea.name = e.environment
                LEFT JOIN ruleset_assignments oa ON oa.scope = 'ou' AND oa.name = e.ou AND e.ou <> ''
                WHERE e.digest = $1
                GROUP BY e.environment
                ORDER BY e.environment
                """,
                digest,
            )
        return {r["environment"]: r["ruleset"] for r in rows}

    async def get_state(self, key: str) -> str | None:
        """A policy state value (``advisory_build``), or None."""
        with translated(f"read policy state {key}"):
            value: str | None = await self._pool.fetchval(
                "SELECT value FROM policy_state WHERE key = $1", key
            )
        return value

    async def set_state(self, key: str, value: str) -> None:
        """Set a policy state value."""
        with translated(f"write policy state {key}"):
            await self._pool.execute(
                """
                INSERT INTO policy_state (key, value) VALUES ($1, $2)
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
                """,
                key,
                value,
            )


async def stored_findings(
    pool: Any, digest: str | None = None, *, include_resolved: bool = False
) -> list[Finding]:
    """The findings policy stored, of one image or of all, most severe first (resolved ones on
    request): the lifecycle's own view, for ``assay up`` and the pipeline's tests."""
    with translated("read findings"):
        records = await pool.fetch(
            f"""
            SELECT {FINDING_SELECT} FROM findings
            WHERE ($1::text IS NULL OR digest = $1) AND ($2 OR state <> 'resolved')
            ORDER BY digest, {severity_rank_sql("severity")}, vuln_id, package_name, finding_id
            """,
            digest,
            include_resolved,
        )
    return [row_finding(r) for r in records]
