"""Roles, principals and which role each route needs: one table, checked by the middleware.

- **viewer** reads (every ``GET``);
- **operator** also changes what is scanned: rescans, registry links;
- **admin** also reads the audit log, manages tokens and adds or removes environments.

A principal may also be limited to some environments or OUs (``Principal.scope``): it then reads
through ``Reads.scoped`` and changes only what its scope covers. Routes that show every
environment at once (``GLOBAL``: the audit log, the metrics) need an unlimited principal; an
admin is never limited (``assay tokens`` and the OIDC claim refuse a limited admin).

A route missing from the table needs ``viewer`` to read and ``admin`` to change: a new write
route is closed until someone decides who may use it.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

import msgspec

from services.api.scope import UNSCOPED, Scope

__all__ = [
    "GLOBAL",
    "PUBLIC",
    "ROLES",
    "Principal",
    "Role",
    "action_name",
    "allows",
    "check_limit",
    "parse_role",
    "required_role",
]

Role = Literal["viewer", "operator", "admin"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)

# routes anyone may call (their canonical aiohttp path); everything else needs a principal
PUBLIC: Final = frozenset(
    {
        "/healthz",
        "/console/login",
        "/console/oidc/start",
        "/console/oidc/callback",
        "/console/static/{name}",
    }
)

# routes whose answer spans every environment: a principal limited to some gets 403
GLOBAL: Final = frozenset({"/metrics", "/v1/audit", "/console/audit"})

# (method, canonical route) -> the least role that may call it, and the audit log's name for it
_TABLE: Final[dict[tuple[str, str], tuple[Role, str]]] = {
    ("POST", "/v1/images/{digest}/rescan"): ("operator", "image.rescan"),
    ("PUT", "/v1/registries/{registry}/links/{cluster}"): ("operator", "registry.link"),
    ("DELETE", "/v1/registries/{registry}/links/{cluster}"): ("operator", "registry.unlink"),
    ("GET", "/v1/audit"): ("admin", "audit.read"),
    ("POST", "/v1/environments"): ("admin", "environment.add"),
    ("DELETE", "/v1/environments/{environment}"): ("admin", "environment.remove"),
    ("GET", "/console/audit"): ("admin", "audit.read"),
    ("POST", "/console/images/{digest}/rescan"): ("operator", "image.rescan"),
    ("POST", "/console/environments/link"): ("operator", "registry.link"),
    ("POST", "/console/environments/unlink"): ("operator", "registry.unlink"),
    ("POST", "/console/logout"): ("viewer", "logout"),
}


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: ``actor`` names them in the audit log; ``via`` says how they proved it."""

    actor: str  # "token:<name>" or "oidc:<issuer>#<subject>"
    role: Role
    via: Literal["token", "oidc", "session"]
    token_id: str = ""  # the API token behind it, if any
    scope: Scope = UNSCOPED  # the environments and OUs it is limited to (none: all)


def parse_role(value: str) -> Role:
    """``value`` as a role; ``ValueError`` naming the roles otherwise."""
    for role in ROLES:
        if value == role:
            return role
    raise ValueError(f"unknown role {value!r} (one of {', '.join(ROLES)})")


def required_role(method: str, route: str) -> Role:
    """The least role that may call ``method route`` (``route``: the canonical path pattern)."""
    found = _TABLE.get((method.upper(), route))
    if found is not None:
        return found[0]
    return "viewer" if method.upper() in ("GET", "HEAD", "OPTIONS") else "admin"


def action_name(method: str, route: str) -> str:
    """What the audit log calls ``method route`` (``"METHOD route"`` when the table has no name)."""
    found = _TABLE.get((method.upper(), route))
    return found[1] if found is not None else f"{method.upper()} {route}"


def allows(have: Role, need: Role) -> bool:
    """Whether a principal with role ``have`` may do what needs ``need``."""
    return ROLES.index(have) >= ROLES.index(need)


def check_limit(role: Role, scope: Scope) -> None:
    """``ValueError`` when ``scope`` limits an admin: admins manage every token and read the whole
    audit log, so a limit would promise what it cannot keep."""
    if role == "admin" and scope.limited:
        raise ValueError(
            f"an admin cannot be limited to {scope.describe()}: give a limited token viewer or operator"
        )
