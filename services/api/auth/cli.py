"""``assay tokens create|list|revoke``: API tokens, straight in PostgreSQL (``ASSAY_PG_DSN``).

``create`` prints the token once, on standard output and nowhere else; only its hash is
stored. Every create and revoke is written to the audit log as ``cli:<user>``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, Any

import msgspec

from services.api.auth.roles import ROLES
from services.api.scope import Scope, ScopeError, parse_scope
from services.common.errors import AssayError, ConfigError

if TYPE_CHECKING:  # the store side (asyncpg) loads only when the command runs: `assay scan` stays light
    from services.api.auth.tokens import TokenInfo
    from services.common.store.postgres import Store

__all__ = ["add_tokens_command", "run_tokens"]


def add_tokens_command(sub: Any) -> None:
    """Register ``assay tokens`` on the subcommand parser ``sub``."""
    p = sub.add_parser("tokens", help="API tokens: create (shown once), list, revoke")
    tsub = p.add_subparsers(dest="tokens_command", required=True)
    create = tsub.add_parser("create", help="create a token and print it once")
    create.add_argument("name", help="a name for it (who or what uses it); unique")
    create.add_argument("--role", required=True, choices=ROLES, help="viewer reads; operator rescans, links")
    create.add_argument("--expires-days", type=float, metavar="DAYS", help="expire after this many days")
    create.add_argument(
        "--environments",
        default="",
        metavar="ENTRIES",
        help="limit it to these environments (cluster:NAME, registry:HOST, ecs:ACCOUNT) and OUs (ou:NAME), "
        "comma-separated; it then sees only their images, findings and alerts (default: all)",
    )
    create.add_argument(
        "--ous", default="", metavar="NAMES", help="limit it to these OUs (short for ou:NAME entries)"
    )
    lst = tsub.add_parser("list", help="list tokens (never the tokens themselves)")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    revoke = tsub.add_parser("revoke", help="revoke a token by name (its console sessions end)")
    revoke.add_argument("name")


def _line(t: TokenInfo) -> str:
    state = (
        f"revoked {t.revoked_at}" if t.revoked_at else f"expires {t.expires_at}" if t.expires_at else "active"
    )
    used = t.last_used_at or "never used"
    scope = ",".join(t.scope) or "all environments"
    return f"{t.name}\t{t.role}\t{scope}\t{t.token_id}\tcreated {t.created_at}\t{state}\t{used}"


def _scope(args: argparse.Namespace) -> Scope:
    """The scope ``--environments`` and ``--ous`` ask for; ``TokenError`` naming a bad entry."""
    from services.api.auth.tokens import TokenError

    entries = args.environments.split(",") + [f"ou:{o.strip()}" for o in args.ous.split(",") if o.strip()]
    try:
        return parse_scope(entries)
    except ScopeError as exc:
        raise TokenError(str(exc)) from None


async def _run(store: Store, args: argparse.Namespace, actor: str) -> int:
    from services.api.auth.audit import Audit
    from services.api.auth.tokens import Tokens

    tokens, audit = Tokens(store.pool), Audit(store.pool)
    if args.tokens_command == "create":
        expires = args.expires_days * 86400 if args.expires_days else None
        scope = _scope(args)
        token, info = await tokens.create(
            args.name, args.role, expires_in_s=expires, created_by=actor, scope=scope
        )
        detail = " ".join([info.role, *info.scope])
        await audit.record(actor=actor, action="token.create", target=info.name, source="cli", detail=detail)
        print(token)
        limit = scope.describe()
        print(
            f"assay tokens: created {info.name} ({info.role}, {limit}); it is shown this once",
            file=sys.stderr,
        )
        return 0
    if args.tokens_command == "revoke":
        info = await tokens.revoke(args.name)
        await audit.record(actor=actor, action="token.revoke", target=info.name, source="cli")
        print(f"revoked {info.name}")
        return 0
    for t in await tokens.list():
        print(msgspec.json.encode(t).decode() if args.json else _line(t))
    return 0


async def run_tokens(pg_dsn: str, args: argparse.Namespace) -> int:
    """Run ``assay tokens`` as parsed against the PostgreSQL at ``pg_dsn``; returns the exit code."""
    from services.api.auth.tokens import TokenError
    from services.common.store.postgres import Store

    try:
        if not pg_dsn:
            raise ConfigError("assay tokens needs ASSAY_PG_DSN (the store the API reads)")
        store = await Store.connect(pg_dsn)
        try:
            return await _run(store, args, f"cli:{getpass.getuser()}")
        finally:
            await store.close()
    except TokenError as exc:
        print(f"assay tokens: {exc}", file=sys.stderr)
        return 1
    except AssayError as exc:
        print(f"assay tokens: error: {exc}", file=sys.stderr)
        return 2
