"""API tokens: made here, shown once, stored as a SHA-256 hash, looked up by their public id.

A token reads ``assay_<id>_<secret>``: ``id`` (12 hex digits) finds the row, and the SHA-256 of the
whole token must equal the stored hash (compared in constant time). The secret is 32 random bytes,
so a fast hash is enough: there is nothing to guess that a slow hash would protect (GitHub's and
PyPI's tokens are stored the same way); a slow one would cost every API request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import Any, Final

import msgspec

from services.api.auth.roles import Principal, Role, check_limit, parse_role
from services.api.scope import UNSCOPED, Scope, parse_scope
from services.common.clock import rfc3339
from services.common.errors import AssayError
from services.common.store._errors import translated

__all__ = [
    "BOOTSTRAP_NAME",
    "TokenError",
    "TokenInfo",
    "Tokens",
    "looks_like_token",
    "new_token",
    "token_hash",
]

BOOTSTRAP_NAME: Final = "bootstrap"
_TOKEN: Final = re.compile(r"^assay_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class TokenError(AssayError):
    """A token operation was refused (bad name, duplicate name, unknown token); the message says why."""


class TokenInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A stored token as ``assay tokens list`` shows it: never the token itself."""

    token_id: str
    name: str
    role: str
    created_at: str
    created_by: str = ""
    scope: list[str] = []  # environments and "ou:NAME" entries it is limited to (none: all)
    expires_at: str | None = None
    revoked_at: str | None = None
    last_used_at: str | None = None


def new_token() -> tuple[str, str]:
    """A fresh token and its public id."""
    token_id = secrets.token_hex(6)
    return f"assay_{token_id}_{secrets.token_urlsafe(32)}", token_id


def token_hash(token: str) -> bytes:
    """What is stored of a token."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def looks_like_token(value: str) -> bool:
    """Whether ``value`` has the shape of an Assay API token (else it may be an OIDC JWT)."""
    return _TOKEN.match(value) is not None


def _iso(value: dt.datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise TokenError(f"token name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-'")
    return name


class Tokens:
    """The ``api_tokens`` table on an asyncpg pool."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def create(
        self,
        name: str,
        role: str,
        *,
        expires_in_s: float | None = None,
        created_by: str = "",
        scope: Scope = UNSCOPED,
    ) -> tuple[str, TokenInfo]:
        """A new token named ``name``: the token (to show once) and what is stored of it.

        ``scope``: the environments and OUs it is limited to (never for an admin: ``TokenError``).
        The name of a revoked token can be given to a new one (the old row is replaced); the name
        of a live token cannot (``TokenError``).
        """
        checked_role: Role = parse_role(role)
        try:
            check_limit(checked_role, scope)
        except ValueError as exc:
            raise TokenError(str(exc)) from None
        token, token_id = new_token()
        expires = dt.timedelta(seconds=expires_in_s) if expires_in_s else None
        with translated("create an API token"):
            row = await self._pool.fetchrow(
                "INSERT INTO api_tokens (token_id, name, role, hash, created_by, expires_at, scope) "
                "VALUES ($1, $2, $3, $4, $5, now() + $6::interval, $7) "
                "ON CONFLICT (name) DO UPDATE SET token_id = EXCLUDED.token_id, role = EXCLUDED.role, "
                "hash = EXCLUDED.hash, created_by = EXCLUDED.created_by, created_at = now(), "
                "expires_at = EXCLUDED.expires_at, scope = EXCLUDED.scope, revoked_at = NULL, "
                "last_used_at = NULL WHERE api_tokens.revoked_at IS NOT NULL RETURNING *",
                token_id,
                _check_name(name),
                checked_role,
                token_hash(token),
                created_by,
                expires,
                scope.entries(),
            )
        if row is None:
            raise TokenError(f"a live token is named {name!r} already: revoke it first, or pick another name")
        return token, _info(row)

    async def register(self, name: str, token: str, role: Role) -> None:
        """Store a token made elsewhere (the bootstrap token from a Secret) under ``name``, replacing
        any token of that name: a new bootstrap token retires the old one."""
        match = _TOKEN.match(token)
        if match is None:
            raise TokenError(f"the {name} token is not an Assay token (assay_<12 hex>_<43 characters>)")
        async with self._pool.acquire() as conn, conn.transaction():
            with translated("register an API token"):
                await conn.execute(
                    "DELETE FROM api_tokens WHERE name = $1 AND token_id <> $2", name, match[1]
                )
                await conn.execute(
                    "INSERT INTO api_tokens (token_id, name, role, hash, created_by) "
                    "VALUES ($1, $2, $3, $4, 'settings') ON CONFLICT (token_id) "
                    "DO UPDATE SET name = $2, role = $3, hash = $4, scope = '{}', revoked_at = NULL",
                    match[1],
                    _check_name(name),
                    role,
                    token_hash(token),
                )

    async def verify(self, token: str) -> Principal | None:
        """The principal ``token`` proves, or None (unknown, wrong secret, revoked or expired)."""
        match = _TOKEN.match(token)
        if match is None:
            return None
        with translated("check an API token"):
            row = await self._pool.fetchrow(
                "UPDATE api_tokens SET last_used_at = now() WHERE token_id = $1 "
                "AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) "
                "RETURNING name, role, hash, scope",
                match[1],
            )
        if row is None or not hmac.compare_digest(bytes(row["hash"]), token_hash(token)):
            return None
        return Principal(
            actor=f"token:{row['name']}",
            role=parse_role(row["role"]),
            via="token",
            token_id=match[1],
            scope=parse_scope(row["scope"]),
        )

    async def list(self) -> list[TokenInfo]:
        """Every token, newest first (revoked ones too, marked)."""
        with translated("list API tokens"):
            rows = await self._pool.fetch("SELECT * FROM api_tokens ORDER BY created_at DESC, name")
        return [_info(r) for r in rows]

    async def revoke(self, name: str) -> TokenInfo:
        """Revoke the token named ``name`` (its console sessions end with it)."""
        async with self._pool.acquire() as conn, conn.transaction():
            with translated("revoke an API token"):
                row = await conn.fetchrow(
                    "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) "
                    "WHERE name = $1 RETURNING *",
                    name,
                )
                if row is not None:
                    await conn.execute("DELETE FROM console_sessions WHERE token_id = $1", row["token_id"])
        if row is None:
            raise TokenError(f"no token named {name!r}")
        return _info(row)


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        token_id=row["token_id"],
        name=row["name"],
        role=row["role"],
        created_at=_iso(row["created_at"]) or "",
        created_by=row["created_by"],
        scope=list(row["scope"]),
        expires_at=_iso(row["expires_at"]),
        revoked_at=_iso(row["revoked_at"]),
        last_used_at=_iso(row["last_used_at"]),
    )
