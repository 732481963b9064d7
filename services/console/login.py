"""Signing in to the console: with an API token, or with the configured OpenID Connect provider.

- ``GET /console/login``: the form (and "Sign in with SSO" when an issuer is configured). The
  form carries a pre-session CSRF token that must match its cookie (no login CSRF).
- ``POST /console/login``: a valid token opens a session: an ``HttpOnly`` cookie, ``Secure``
  when the console's public URL is HTTPS, ``SameSite=Lax`` (the OIDC callback is a cross-site
  redirect, which a ``Strict`` cookie would not survive; every change needs the CSRF token anyway).
- ``GET /console/oidc/start`` and ``/console/oidc/callback``: the authorization-code flow with
  PKCE; state, nonce and verifier ride an ``HttpOnly`` cookie scoped to ``/console/oidc``.
- ``POST /console/logout``: ends the session (CSRF-checked by the middleware).

Failed logins count towards the per-address limit; logins and failures go to the audit log.
"""

from __future__ import annotations

import secrets
from typing import Final

import msgspec
from aiohttp import web

from services.api.auth.access import ACCESS, Access, client_address
from services.api.auth.middleware import CSRF_FIELD
from services.api.auth.oidc import LoginStart, OidcError
from services.api.auth.ratelimit import retry_after
from services.api.auth.roles import Principal
from services.api.auth.sessions import COOKIE
from services.console.base import guarded, page

__all__ = ["add_login_routes"]

_LOGIN_COOKIE: Final = "assay_login"
_OIDC_COOKIE: Final = "assay_oidc"
_OIDC_PATH: Final = "/console/oidc"


class _Pending(msgspec.Struct, frozen=True):
    login: LoginStart
    next: str


def _next(value: str | None) -> str:
    """Where to go after login: a console path only (never another site: ``//evil``, ``/\\evil``)."""
    if value and value.startswith("/console") and not value.startswith(("//", "/\\")) and "\\" not in value:
        return value
    return "/console/findings"


def _cookie(
    access: Access, response: web.StreamResponse, name: str, value: str, path: str, max_age: int
) -> None:
    response.set_cookie(
        name, value, path=path, max_age=max_age, httponly=True, secure=access.secure_cookies, samesite="Lax"
    )


def _form(request: web.Request, status: int = 200, error: str = "", next_path: str = "") -> web.Response:
    access = request.app[ACCESS]
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        status,
        login_csrf=token,
        next=_next(next_path or request.query.get("next")),
        sso=bool(access.config.oidc_issuer),
        error=error,
    )
    _cookie(access, response, _LOGIN_COOKIE, token, "/console/login", 3600)
    return response


async def _login_form(request: web.Request) -> web.StreamResponse:
    return _form(request)


async def _signed_in(request: web.Request, principal: Principal, next_path: str) -> web.StreamResponse:
    access = request.app[ACCESS]
    cookie, _ = await access.sessions.open(principal)
    await access.record(request, principal, "login", principal.via)
    response = web.Response(status=303, headers={"Location": _next(next_path)})
    _cookie(access, response, COOKIE, cookie, "/", int(access.config.session_ttl_s))
    return response


async def _refused(request: web.Request, reason: str, next_path: str = "") -> web.StreamResponse:
    access = request.app[ACCESS]
    access.failures.take(client_address(request))
    await access.record(request, None, "login", "", "refused", reason)
    return _form(request, 401, f"Sign-in refused: {reason}.", next_path)


async def _login(request: web.Request) -> web.StreamResponse:
    access = request.app[ACCESS]
    wait = access.failures.blocked(client_address(request))
    if wait > 0:
        response = _form(request, 429, "Too many failed sign-ins from this address: wait and try again.")
        response.headers["Retry-After"] = retry_after(wait)
        return response
    form = await request.post()
    next_path = str(form.get("next", ""))
    sent, expected = str(form.get(CSRF_FIELD, "")), request.cookies.get(_LOGIN_COOKIE, "")
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        return await _refused(request, "the form expired (reload the page)", next_path)
    principal = await access.tokens.verify(str(form.get("token", "")).strip())
    if principal is None:
        return await _refused(request, "the token is unknown, revoked or expired", next_path)
    return await _signed_in(request, principal, next_path)


def _redirect_uri(request: web.Request) -> str:
    base = request.app[ACCESS].config.public_url.rstrip("/") or f"{request.scheme}://{request.host}"
    return f"{base}{_OIDC_PATH}/callback"


async def _oidc_start(request: web.Request) -> web.StreamResponse:
    access = request.app[ACCESS]
    if access.oidc is None:
        return page(request, "error.html", 404, title="Not found", message="single sign-on is not configured")
    login = await access.oidc.start(_redirect_uri(request))
    pending = _Pending(login=login, next=_next(request.query.get("next")))
    response = web.Response(status=302, headers={"Location": login.url})
    value = msgspec.json.encode(pending).decode()
    _cookie(access, response, _OIDC_COOKIE, value, _OIDC_PATH, 600)
    return response


async def _oidc_callback(request: web.Request) -> web.StreamResponse:
    access = request.app[ACCESS]
    if access.oidc is None:
        return page(request, "error.html", 404, title="Not found", message="single sign-on is not configured")
    try:
        pending = msgspec.json.decode(request.cookies.get(_OIDC_COOKIE, ""), type=_Pending)
    except msgspec.DecodeError:
        return await _refused(request, "no sign-in is in progress in this browser (start again)")
    state, code = request.query.get("state", ""), request.query.get("code", "")
    if not code or not secrets.compare_digest(state, pending.login.state):
        error = request.query.get("error_description") or request.query.get("error") or "state mismatch"
        return await _refused(request, f"the provider's answer does not match this sign-in ({error})")
    try:
        principal = await access.oidc.finish(code, _redirect_uri(request), pending.login)
    except OidcError as exc:
        return await _refused(request, str(exc))
    response = await _signed_in(request, principal, pending.next)
    response.del_cookie(_OIDC_COOKIE, path=_OIDC_PATH)
    return response


async def _logout(request: web.Request) -> web.StreamResponse:
    access = request.app[ACCESS]
    await access.sessions.close(request.cookies.get(COOKIE, ""))
    response = web.Response(status=303, headers={"Location": "/console/login"})
    response.del_cookie(COOKIE, path="/")
    return response


def add_login_routes(app: web.Application) -> None:
    """Mount the sign-in and sign-out routes."""
    app.router.add_get("/console/login", guarded(_login_form), allow_head=False)
    app.router.add_post("/console/login", guarded(_login))
    app.router.add_get(f"{_OIDC_PATH}/start", guarded(_oidc_start), allow_head=False)
    app.router.add_get(f"{_OIDC_PATH}/callback", guarded(_oidc_callback), allow_head=False)
    app.router.add_post("/console/logout", guarded(_logout))
