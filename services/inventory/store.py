"""The environments added at run time (migration 0010): ``assay environments`` writes, inventory reads.

A cluster environment keeps its kubeconfig's contents, not a path: the command runs on an
operator's machine and inventory in the cluster, so no file is shared between them. The table
therefore holds cluster credentials; grant it like the rest of the database.
"""

from __future__ import annotations

from typing import Any

import msgspec

from services.common.store._errors import translated

__all__ = ["Environment", "Environments"]


class Environment(msgspec.Struct, frozen=True, kw_only=True):
    """A cluster (today the only kind) inventory watches besides the configured ones."""

    kind: str  # "cluster"
    name: str  # the environment is "<kind>:<name>"
    mode: str = "watch"  # "watch": central inventory watches it; "agent": its own inventory publishes
    kubeconfig: str = ""  # the kubeconfig's contents; "" = the in-cluster service account
    context: str = ""
    ou: str = ""
    namespaces: list[str] = []

    @property
    def environment(self) -> str:
        return f"{self.kind}:{self.name}"


_UPSERT = """
INSERT INTO environments AS e (kind, name, kubeconfig, context, ou, namespaces, mode)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (kind, name) DO UPDATE SET
    mode = EXCLUDED.mode, kubeconfig = EXCLUDED.kubeconfig, context = EXCLUDED.context, ou = EXCLUDED.ou,
    namespaces = EXCLUDED.namespaces, updated_at = now()
RETURNING (xmax = 0) AS created
"""


class Environments:
    """The statements, on an asyncpg pool."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def put(self, env: Environment) -> bool:
        """Add ``env``, or replace the one of that kind and name; True when it is new."""
        with translated(f"store environment {env.environment}"):
            created = await self._pool.fetchval(
                _UPSERT,
                env.kind,
                env.name,
                env.kubeconfig,
                env.context,
                env.ou,
                list(env.namespaces),
                env.mode,
            )
        return bool(created)

    async def remove(self, kind: str, name: str) -> bool:
        """Forget an environment; False when there was none."""
        with translated(f"remove environment {kind}:{name}"):
            result = await self._pool.execute(
                "DELETE FROM environments WHERE kind = $1 AND name = $2", kind, name
            )
        return str(result).endswith(" 1")

    async def all(self) -> list[Environment]:
        """Every stored environment, by kind and name."""
        with translated("list environments"):
            rows = await self._pool.fetch(
                "SELECT kind, name, mode, kubeconfig, context, ou, namespaces FROM environments"
                " ORDER BY kind, name"
            )
        return [
            Environment(
                kind=r["kind"],
                name=r["name"],
                mode=r["mode"],
                kubeconfig=r["kubeconfig"],
                context=r["context"],
                ou=r["ou"],
                namespaces=list(r["namespaces"]),
            )
            for r in rows
        ]
