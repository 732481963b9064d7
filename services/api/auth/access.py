"""What the API needs to decide who is calling: tokens, sessions, OIDC, rate limits, the audit log.

``Access`` is built once by the API's lifespan (or a test) from the ``auth`` settings and the
store's pool, and handed to ``make_app``; nothing here is a module global.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import aiohttp
from aiohttp import web

from services.api.auth.audit import Audit, Outcome
from services.api.auth.oidc import Oidc, OidcError
from services.api.auth.ratelimit import RateLimiter
from services.api.auth.roles import Principal
from services.api.auth.sessions import COOKIE, Session, Sessions
from services.api.auth.tokens import BOOTSTRAP_NAME, Tokens, looks_like_token
from services.api.settings import AuthConfig
from services.common.errors import StoreError

__all__ = ["ACCESS", "Access", "Identity", "client_address"]

log = logging.getLogger(__name__)


class Identity:
    """Who a request proved to be (``principal``), by which session if any, and whether it tried."""

    __slots__ = ("presented", "principal", "session")

    def __init__(self, principal: Principal | None, session: Session | None, presented: bool) -> None:
        self.principal, self.session, self.presented = principal, session, presented


def client_address(request: web.Request) -> str:
    """The peer's address (proxies' ``X-Forwarded-For`` is not trusted: anyone can send it)."""
    return request.remote or "unknown"


class Access:
    """Tokens, sessions, OIDC, rate limits and the audit log over one pool, per the ``auth`` settings."""

    def __init__(self, config: AuthConfig, pool: Any, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.tokens = Tokens(pool)
        self.sessions = Sessions(pool, config.session_ttl_s)
        self.audit = Audit(pool)
        self.requests = RateLimiter(config.rate_per_s, config.rate_burst, clock)
        per_min = max(1, config.login_failures_per_min)
        self.failures = RateLimiter(per_min / 60.0, per_min, clock)
        self.oidc: Oidc | None = None  # set at start when an issuer is configured

    @property
    def secure_cookies(self) -> bool:
        """Cookies are ``Secure`` when the console is reached over HTTPS (``public_url``)."""
        return self.config.public_url.startswith("https://")

    async def lifespan(self, _: web.Application) -> AsyncIterator[None]:
        """Register the bootstrap token and open the OIDC client for the app's lifetime."""
        if self.config.bootstrap_token:
            await self.tokens.register(BOOTSTRAP_NAME, self.config.bootstrap_token, "admin")
            log.info("api: the bootstrap admin token (ASSAY_AUTH_BOOTSTRAP_TOKEN) is registered")
        if not self.config.oidc_issuer:
            yield
            return
        async with aiohttp.ClientSession() as http:
            self.oidc = Oidc(self.config, http)
            try:
                yield
            finally:
                self.oidc = None

    async def identify(self, request: web.Request) -> Identity:
        """The principal behind the request's bearer token or session cookie, if it proves one."""
        header = request.headers.get("Authorization", "")
        scheme, _, credential = header.partition(" ")
        if header and scheme.lower() == "bearer" and credential.strip():
            return Identity(await self.bearer(credential.strip()), None, True)
        cookie = request.cookies.get(COOKIE, "")
        if cookie:
            session = await self.sessions.find(cookie)
            return Identity(session.principal if session else None, session, True)
        return Identity(None, None, bool(header))

    async def bearer(self, credential: str) -> Principal | None:
        """An API token, or (with OIDC configured) an ID token, as a principal; None if neither verifies."""
        if looks_like_token(credential):
            return await self.tokens.verify(credential)
        if self.oidc is not None and credential.count(".") == 2:
            try:
                return await self.oidc.verify(credential)
            except OidcError as exc:
                log.info("api: an OIDC bearer token was refused: %s", exc)  # the reason, never the token
        return None

    async def record(
        self,
        request: web.Request,
        principal: Principal | None,
        action: str,
        target: str,
        outcome: Outcome = "ok",
        detail: str = "",
    ) -> None:
        """Write an audit entry for ``request``; a store failure is logged, not raised (the action stands)."""
        try:
            await self.audit.record(
                actor=principal.actor if principal else "anonymous",
                role=principal.role if principal else "",
                action=action,
                target=target,
                source=client_address(request),
                outcome=outcome,
                detail=detail,
                scope=principal.scope.entries() if principal else (),
            )
        except StoreError as exc:  # a change already made stands; the failure is logged
            log.warning("api: cannot write the audit log (%s %s): %s", action, target, exc)


ACCESS: Final = web.AppKey("access", Access)
