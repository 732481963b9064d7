"""Console sessions: a random cookie, stored as its SHA-256, carrying who logged in and the CSRF token
every form of that session must send back (the synchronizer-token pattern).

Sessions live in PostgreSQL, so every API replica knows them and logging out (or revoking the
token that logged in) ends them at once.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, Final

import msgspec

from services.api.auth.roles import Principal, parse_role
from services.api.scope import parse_scope
from services.common.store._errors import translated

__all__ = ["COOKIE", "Session", "Sessions"]

COOKIE: Final = "assay_session"


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """A live console session."""

    principal: Principal
    csrf: str


def _hash(cookie: str) -> bytes:
    return hashlib.sha256(cookie.encode("utf-8")).digest()


class Sessions:
    """The ``console_sessions`` table on an asyncpg pool."""

    def __init__(self, pool: Any, ttl_s: float) -> None:
        self._pool, self._ttl_s = pool, ttl_s

    async def open(self, principal: Principal) -> tuple[str, Session]:
        """A new session for ``principal``: the cookie value (set once, never stored) and the session."""
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with translated("open a console session"):
            await self._pool.execute(
                "DELETE FROM console_sessions WHERE expires_at < now()"  # expired ones, in passing
            )
            await self._pool.execute(
                "INSERT INTO console_sessions (hash, actor, role, token_id, csrf, expires_at, scope) "
                "VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), $7)",
                _hash(cookie),
                principal.actor,
                principal.role,
                principal.token_id or None,
                csrf,
                self._ttl_s,
                principal.scope.entries(),
            )
        session = Session(principal=msgspec.structs.replace(principal, via="session"), csrf=csrf)
        return cookie, session

    async def find(self, cookie: str) -> Session | None:
        """The live session behind ``cookie``, or None."""
        with translated("read a console session"):
            row = await self._pool.fetchrow(
                "SELECT actor, role, token_id, csrf, scope FROM console_sessions "
                "WHERE hash = $1 AND expires_at > now()",
                _hash(cookie),
            )
        if row is None:
            return None
        principal = Principal(
            actor=row["actor"],
            role=parse_role(row["role"]),
            via="session",
            token_id=row["token_id"] or "",
            scope=parse_scope(row["scope"]),
        )
        return Session(principal=principal, csrf=row["csrf"])

    async def close(self, cookie: str) -> None:
        """End the session behind ``cookie`` (logout)."""
        with translated("end a console session"):
            await self._pool.execute("DELETE FROM console_sessions WHERE hash = $1", _hash(cookie))
