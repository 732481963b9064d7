"""Ruleset assignments (``ruleset_assignments``): which ruleset applies to an environment or an OU.

A table two services share: ``assay rulesets assign`` writes it, the policy service resolves an
image's rulesets from it, and the admission gate reads it to know which verdict to look for. Both
may import ``services.common``, neither may import the other, so its statements live here.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from services.common.store._errors import translated

__all__ = ["Assignment", "Assignments", "Scope"]

Scope = Literal["environment", "ou"]


class Assignment(msgspec.Struct, frozen=True):
    """A ruleset assigned to an environment or an organisational unit."""

    scope: Scope
    name: str
    ruleset: str


class Assignments:
    """The assignment statements on an asyncpg pool: ``Assignments(store.pool)`` or ``store.assignments``."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def assign(self, scope: Scope, name: str, ruleset: str) -> None:
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

    async def unassign(self, scope: Scope, name: str) -> bool:
        """Remove the assignment of the environment or OU ``name``; whether there was one."""
        with translated(f"unassign the ruleset of {scope} {name}"):
            result = await self._pool.execute(
                "DELETE FROM ruleset_assignments WHERE scope = $1 AND name = $2", scope, name
            )
        return bool(int(result.rsplit(" ", 1)[-1]))

    async def all(self) -> list[Assignment]:
        """Every assignment, by scope then name."""
        with translated("read ruleset assignments"):
            rows = await self._pool.fetch(
                "SELECT scope, name, ruleset FROM ruleset_assignments ORDER BY 1, 2"
            )
        return [Assignment(r["scope"], r["name"], r["ruleset"]) for r in rows]
