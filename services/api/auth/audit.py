"""The audit log: who changed what, when, from where, and whether it was allowed.

Every change through the API, the console or ``assay tokens`` writes one row; refused changes
(403, a refused unlink) and failed logins are written too, with their outcome. Never a token:
actors are named by the token's name or the OIDC subject.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import msgspec

from services.common.clock import rfc3339
from services.common.store._errors import translated

__all__ = ["Audit", "AuditEntry", "AuditPage"]

Outcome = Literal["ok", "refused", "failed"]


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One audited action."""

    id: int
    at: str  # RFC 3339 UTC
    actor: str  # "token:<name>", "oidc:<issuer>#<subject>", "cli:<user>", or "anonymous"
    role: str
    action: str  # e.g. "registry.link", "image.rescan", "token.create", "login"
    target: str
    source: str  # the client address, or "cli"
    outcome: str  # ok, refused, failed
    detail: str = ""
    scope: list[str] = []  # the environments and OUs the actor was limited to (none: all)


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    """Audit entries, newest first; ``next``: the link to older ones, null at the start."""

    items: list[AuditEntry]
    next: str | None = None


class Audit:
    """The ``audit_log`` table on an asyncpg pool."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def record(
        self,
        *,
        actor: str,
        action: str,
        target: str = "",
        source: str = "",
        role: str = "",
        outcome: Outcome = "ok",
        detail: str = "",
        scope: Sequence[str] = (),
    ) -> None:
        """Write one entry."""
        with translated("write the audit log"):
            await self._pool.execute(
                "INSERT INTO audit_log (actor, role, action, target, source, outcome, detail, scope) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                actor,
                role,
                action,
                target,
                source,
                outcome,
                detail[:2000],
                list(scope),
            )

    async def entries(self, *, before: int | None = None, limit: int = 100) -> list[AuditEntry]:
        """Up to ``limit`` entries older than id ``before``, newest first."""
        with translated("read the audit log"):
            rows = await self._pool.fetch(
                "SELECT * FROM audit_log WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
                before,
                limit,
            )
        return [
            msgspec.convert({**dict(r), "at": rfc3339(r["at"]), "scope": list(r["scope"])}, AuditEntry)
            for r in rows
        ]
