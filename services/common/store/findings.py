"""The policy's side of the store: finding lifecycle, ruleset assignments, rematch inputs and state.

``apply_evaluation`` is the heart: it replaces the findings of one (digest, ruleset) within the
categories an evaluation covers, inside one transaction holding a per-digest advisory lock, and
returns the lifecycle changes to publish:

* ``new``: absent before (or ``resolved`` before and present again);
* ``changed``: present with a different severity, fixed version, fix state, KEV mark or
  suppression (other fields, e.g. the environment list, are updated silently);
* ``resolved``: present and not resolved before, absent now.

Each applied evaluation is recorded in ``policy_evaluations``; applying the same evaluation id
again (a redelivered ``ScanCompleted``) changes nothing and returns the findings the first
application changed (those whose ``changed_by`` it still is) as ``unchanged`` (``resolved`` ones
as ``resolved`` again): a crash between storing and publishing loses no finding, and a
redelivery never repeats a ``new``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any, Final, Literal

from schemas.records import Finding
from services.common.store._errors import translated

__all__ = [
    "LIFECYCLE_SELECT",
    "LIFECYCLE_STATES",
    "Assignment",
    "Lifecycle",
    "LifecycleState",
    "StoredScan",
    "row_finding",
]

LifecycleState = Literal["new", "changed", "resolved", "unchanged"]  # unchanged: replays only
LIFECYCLE_STATES: Final = ("new", "changed", "resolved", "unchanged")

# The fields whose change is a lifecycle ``changed``.
MATERIAL: Final = ("severity", "fixed_version", "fix_state", "suppression", "known_exploited")

_TEXT = (
    "category",
    "severity",
    "title",
    "description",
    "package_name",
    "purl",
    "installed_version",
    "fixed_version",
    "layer_digest",
    "environment",
    "ruleset",
    "fix_state",
    "path",
    "evidence",
    "suppression",
    "policy_rule",
)
LIFECYCLE_SELECT: Final = (
    f"finding_id, digest, vuln_id, known_exploited, cvss_score, state, {', '.join(_TEXT)}"
)
_SELECT = LIFECYCLE_SELECT

_UPSERT = f"""
INSERT INTO findings (finding_id, digest, vuln_id, known_exploited, cvss_score, {", ".join(_TEXT)},
                      state, changed_by, first_seen, last_seen, state_changed_at)
VALUES ($1, $2, $3, $4, $5, {", ".join(f"${i + 6}" for i in range(len(_TEXT)))},
        ${len(_TEXT) + 6}, ${len(_TEXT) + 7}, now(), now(), now())
ON CONFLICT (finding_id) DO UPDATE SET
    digest = EXCLUDED.digest, vuln_id = EXCLUDED.vuln_id, known_exploited = EXCLUDED.known_exploited,
    cvss_score = EXCLUDED.cvss_score,
    {", ".join(f"{c} = EXCLUDED.{c}" for c in _TEXT)},
    state_changed_at = CASE WHEN findings.state IS DISTINCT FROM EXCLUDED.state
                              OR findings.changed_by IS DISTINCT FROM EXCLUDED.changed_by
                            THEN now() ELSE findings.state_changed_at END,
    state = EXCLUDED.state, changed_by = EXCLUDED.changed_by, last_seen = now()
"""


class Assignment:
    """A ruleset assigned to an environment or an organisational unit."""

    __slots__ = ("name", "ruleset", "scope")

    def __init__(self, scope: str, name: str, ruleset: str) -> None:
        """``scope``: ``environment`` or ``ou``."""
        self.scope, self.name, self.ruleset = scope, name, ruleset

    def __repr__(self) -> str:
        return f"Assignment({self.scope}={self.name!r} -> {self.ruleset!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Assignment) and (self.scope, self.name, self.ruleset) == (
            other.scope,
            other.name,
            other.ruleset,
        )

    def __hash__(self) -> int:
        return hash((self.scope, self.name, self.ruleset))


class StoredScan:
    """The latest stored scan of a digest: its image description and package inventory (JSON)."""

    __slots__ = ("digest", "image_json", "packages_json", "packages_ref", "scan_id")

    def __init__(
        self, scan_id: str, digest: str, image_json: str, packages_json: str, packages_ref: str = ""
    ) -> None:
        """Raw jsonb text as stored by ``Store.save_scan``; ``packages_ref``: the inventory's
        object-store key when it is not inline (``services/policy/inventories.py``)."""
        self.scan_id, self.digest, self.image_json, self.packages_json = (
            scan_id,
            digest,
            image_json,
            packages_json,
        )
        self.packages_ref = packages_ref


def row_finding(r: Any) -> Finding:
    """A ``Finding`` from a findings row selected with ``_SELECT``."""
    return Finding(
        finding_id=r["finding_id"],
        id=r["vuln_id"],
        known_exploited=r["known_exploited"],
        cvss_score=float(r["cvss_score"]),
        **{c: r[c] for c in _TEXT},
    )


def _material(f: Finding) -> tuple[object, ...]:
    return tuple(getattr(f, c) for c in MATERIAL)


def _args(f: Finding, digest: str, state: str, changed_by: str) -> tuple[object, ...]:
    return (
        f.finding_id,
        digest,
        f.id,
        f.known_exploited,
        f.cvss_score,
        *(getattr(f, c) for c in _TEXT),
        state,
        changed_by,
    )


def _digest_lock(digest: str) -> str:
    return f"assay-findings:{digest}"


class Lifecycle:
    """Finding lifecycle, assignments and policy state over one asyncpg pool (``Store.lifecycle``)."""

    def __init__(self, pool: Any) -> None:
        """Share ``pool`` with the ``Store`` that made this."""
        self._pool = pool

    # -- findings -------------------------------------------------------------------------

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
        unique = {f.finding_id: f for f in findings}
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
                    f"SELECT {_SELECT}, changed_by FROM findings WHERE digest = $1 AND ruleset = $2",
                    digest,
                    ruleset,
                )
                stored = {r["finding_id"]: r for r in rows}
                changes: list[tuple[Finding, LifecycleState]] = []
                writes: list[tuple[object, ...]] = []
                for f in unique.values():
                    before = stored.get(f.finding_id)
                    if before is None or before["state"] == "resolved":
                        changes.append((f, "new"))
                        writes.append(_args(f, digest, "new", evaluation_id))
                    elif _material(row_finding(before)) != _material(f):
                        changes.append((f, "changed"))
                        writes.append(_args(f, digest, "changed", evaluation_id))
                    else:
                        writes.append(_args(f, digest, before["state"], before["changed_by"]))
                gone = [
                    row_finding(r)
                    for fid, r in stored.items()
                    if fid not in unique
                    and r["state"] != "resolved"
                    and (categories is None or r["category"] in categories)
                ]
                if writes:
                    await conn.executemany(_UPSERT, writes)
                if gone:
                    await conn.execute(
                        """
                        UPDATE findings SET state = 'resolved', changed_by = $2, state_changed_at = now()
                        WHERE finding_id = ANY($1::text[])
                        """,
                        [f.finding_id for f in gone],
                        evaluation_id,
                    )
                changes += [(f, "resolved") for f in gone]
                return changes

    async def _replay(
        self, conn: Any, evaluation_id: str, digest: str, ruleset: str
    ) -> list[tuple[Finding, LifecycleState]]:
        rows = await conn.fetch(
            f"""
            SELECT {_SELECT} FROM findings
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
                SELECT {_SELECT} FROM findings
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

    # -- assignments ----------------------------------------------------------------------

    async def assign(self, scope: Literal["environment", "ou"], name: str, ruleset: str) -> None:
        """Assign ``ruleset`` to the environment or OU ``name`` (replacing an earlier assignment)."""
        with translated(f"assign ruleset {ruleset} to {scope} {name}"):
            await self._pool.execute(
                """
                INSERT INTO ruleset_assignments (scope, name, ruleset) VALUES ($1, $2, $3)
                ON CONFLICT (scope, name) DO UPDATE SET ruleset = EXCLUDED.ruleset, assigned_at = now()
                """,
                scope,
                name,
                ruleset,
            )

    async def unassign(self, scope: Literal["environment", "ou"], name: str) -> bool:
        """Remove the assignment of the environment or OU ``name``; whether there was one."""
        with translated(f"unassign the ruleset of {scope} {name}"):
            result = await self._pool.execute(
                "DELETE FROM ruleset_assignments WHERE scope = $1 AND name = $2", scope, name
            )
        return bool(int(result.rsplit(" ", 1)[-1]))

    async def assignments(self) -> list[Assignment]:
        """Every assignment, by scope then name."""
        with translated("read ruleset assignments"):
            rows = await self._pool.fetch(
                "SELECT scope, name, ruleset FROM ruleset_assignments ORDER BY 1, 2"
            )
        return [Assignment(r["scope"], r["name"], r["ruleset"]) for r in rows]

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

    # -- rematch inputs and state -----------------------------------------------------------

    async def latest_scans(self, digest: str | None = None) -> list[StoredScan]:
        """The latest stored scan of each digest (or of ``digest`` only), by digest."""
        with translated("read stored scans"):
            rows = await self._pool.fetch(
                """
                SELECT DISTINCT ON (digest) scan_id, digest, image::text AS image,
                       packages::text AS packages, packages_ref
                FROM scans WHERE $1::text IS NULL OR digest = $1
                ORDER BY digest, completed_at DESC, scan_id
                """,
                digest,
            )
        return [
            StoredScan(r["scan_id"], r["digest"], r["image"], r["packages"], r["packages_ref"]) for r in rows
        ]

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

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """Try a session advisory lock named ``name`` on a connection of its own; yields whether it
        was taken (only one holder across every replica), and releases it at the end."""
        with translated(f"take lock {name}"):
            conn = await self._pool.acquire()
        try:
            with translated(f"take lock {name}"):
                got = bool(await conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", name))
            try:
                yield got
            finally:
                if got:
                    with translated(f"release lock {name}"):
                        await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)
        finally:
            await self._pool.release(conn)
