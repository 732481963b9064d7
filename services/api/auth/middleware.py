"""The one gate every request passes: who is calling, may they, not too often, CSRF, and the audit.

In order: public routes (``/healthz``, the login pages, static assets) pass; failed credentials
are counted per client address and a client over the limit gets 429 before anything is checked;
no proof of identity is 401 (the console redirects to its login page instead); the principal's
rate limit (429 with ``Retry-After``); the route's role, and for a principal limited to some
environments, routes that show every environment (403); for console sessions, a
state-changing request must carry the session's CSRF token (403). Every state-changing request
that reaches a handler, or is refused for its role, is written to the audit log with its outcome.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import quote

import msgspec
from aiohttp import web

from services.api.auth.access import ACCESS, Access, Identity, client_address
from services.api.auth.audit import Outcome
from services.api.auth.ratelimit import retry_after
from services.api.auth.roles import GLOBAL, PUBLIC, Principal, action_name, allows, required_role
from services.api.models import Problem
from services.api.scope import OutOfScope

__all__ = ["AUDIT_TARGET", "CSRF_FIELD", "CSRF_HEADER", "PRINCIPAL", "SESSION_CSRF", "auth_middleware"]

PRINCIPAL: Final = web.RequestKey("principal", Principal)  # who is calling
SESSION_CSRF: Final = web.RequestKey("csrf", str)  # the session's CSRF token ("" for bearer callers)
AUDIT_TARGET: Final = web.RequestKey("audit_target", str)  # what the change names beyond its path
CSRF_FIELD: Final = "csrf"
CSRF_HEADER: Final = "X-CSRF-Token"
_SAFE: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_ENCODER: Final = msgspec.json.Encoder()
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _problem(status: int, message: str, **headers: str) -> web.Response:
    body = _ENCODER.encode(Problem(status=status, error=message))
    return web.Response(body=body, status=status, content_type="application/json", headers=headers)


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path


def _unauthenticated(request: web.Request) -> web.StreamResponse:
    if request.path.startswith("/console") and request.method in _SAFE:
        target = request.path_qs
        raise web.HTTPSeeOther(f"/console/login?next={quote(target, safe='')}")
    return _problem(
        401,
        "authentication required: send Authorization: Bearer <API token or OIDC ID token>",
        **{"WWW-Authenticate": 'Bearer realm="assay"'},
    )


def _target(request: web.Request) -> str:
    parts = [f"{k}={v}" for k, v in request.match_info.items()]
    named = request.get(AUDIT_TARGET, "")  # what a handler read from the body, e.g. a new environment
    return " ".join([*parts, named] if named else parts)


def _outcome(status: int) -> Outcome:
    return "ok" if status < 400 else "failed" if status >= 500 else "refused"


async def _audited(
    access: Access, request: web.Request, principal: Principal, handler: _Handler
) -> web.StreamResponse:
    """Run a state-changing handler and write its outcome to the audit log."""
    action = action_name(request.method, _route(request))
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        await access.record(request, principal, action, _target(request), _outcome(exc.status), exc.reason)
        raise
    except OutOfScope as exc:  # answered 403 by the app's error middleware
        await access.record(request, principal, action, _target(request), "refused", str(exc))
        raise
    detail = ""
    if response.status >= 400 and isinstance(response, web.Response) and response.text is not None:
        detail = response.text[:500] if response.content_type == "application/json" else ""
    await access.record(request, principal, action, _target(request), _outcome(response.status), detail)
    return response


def _refusal(principal: Principal, method: str, route: str) -> str:
    """Why ``principal`` may not call ``method route`` at all ("" if it may: the scope of what it
    names is checked by the handler, through ``Reads.scoped``)."""
    need = required_role(method, route)
    if not allows(principal.role, need):
        return f"has role {principal.role}; this needs {need}"
    if principal.scope.limited and route in GLOBAL:
        return f"is limited to {principal.scope.describe()}; this shows every environment"
    return ""


async def _csrf_ok(request: web.Request, identity: Identity) -> bool:
    """A session's state-changing request carries its CSRF token (form field or header)."""
    if identity.session is None or request.method in _SAFE:
        return True
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = str((await request.post()).get(CSRF_FIELD, ""))
    return bool(sent) and hmac.compare_digest(sent, identity.session.csrf)


@web.middleware
async def auth_middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Authenticate, rate-limit, authorize and audit ``request`` (see the module docstring)."""
    route = _route(request)
    if route in PUBLIC:
        return await handler(request)
    access = request.app[ACCESS]
    address = client_address(request)
    wait = access.failures.blocked(address)
    if wait > 0:
        return _problem(429, "too many failed logins from this address", **{"Retry-After": retry_after(wait)})
    identity = await access.identify(request)
    principal = identity.principal
    if principal is None:
        if identity.presented:
            access.failures.take(address)
        elif access.requests.take(f"address:{address}") > 0:
            return _problem(429, "rate limit: too many requests from this address", **{"Retry-After": "1"})
        return _unauthenticated(request)
    wait = access.requests.take(principal.actor)
    if wait > 0:
        return _problem(
            429,
            f"rate limit: {principal.actor} sends too many requests",
            **{"Retry-After": retry_after(wait)},
        )
    refusal = _refusal(principal, request.method, route)
    if refusal:
        if request.method not in _SAFE:
            action = action_name(request.method, route)
            await access.record(request, principal, action, _target(request), "refused", refusal)
        return _problem(403, f"{principal.actor}: {refusal}")
    if not await _csrf_ok(request, identity):
        await access.record(
            request, principal, "csrf", request.path, "refused", "missing or wrong CSRF token"
        )
        return _problem(403, "the form's CSRF token is missing or stale: reload the page and try again")
    request[PRINCIPAL] = principal
    request[SESSION_CSRF] = identity.session.csrf if identity.session else ""
    if request.method in _SAFE:
        return await handler(request)
    return await _audited(access, request, principal, handler)
