"""OpenID Connect: the console's login (authorization code with PKCE) and bearer ID tokens on the API.

The provider is found by discovery (``<issuer>/.well-known/openid-configuration``), whose
``issuer`` must equal the configured one. ID tokens are verified with PyJWT against the
provider's JWKS: signature (RS256/ES256 family only, never ``none`` or HMAC), ``iss``, ``aud``
(the client id), ``exp``, ``iat``, and on login the ``nonce`` sent. An unknown ``kid`` refetches
the JWKS (key rotation), at most once a minute. The role comes from a claim (``assay_role`` by
default); a token without one gets ``oidc_default_role`` or is refused. The environments and OUs
the user is limited to come from ``oidc_scope_claim`` (``assay_scope``): a list of entries, or one
string of them separated by commas or spaces (``scope.py``); without it the user is not limited.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp
import jwt
import msgspec

from services.api.auth.roles import Principal, check_limit, parse_role
from services.api.scope import UNSCOPED, Scope, ScopeError, parse_scope
from services.api.settings import AuthConfig
from services.common.errors import AssayError

__all__ = ["Discovery", "LoginStart", "Oidc", "OidcError", "pkce_challenge"]

_ALGORITHMS: Final = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
_REFETCH_S: Final = 60.0
_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)


class OidcError(AssayError):
    """The provider could not be reached, answered wrongly, or a token did not verify."""


class Discovery(msgspec.Struct, frozen=True):
    """The fields of the provider's discovery document Assay uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class LoginStart(msgspec.Struct, frozen=True, kw_only=True):
    """A login in progress: where to send the browser, and what the callback must match."""

    url: str
    state: str
    nonce: str
    verifier: str


class _TokenAnswer(msgspec.Struct):
    id_token: str
    token_type: str = "Bearer"


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of ``verifier`` (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class Oidc:
    """One configured provider; ``http`` is owned by the caller (the app's lifespan)."""

    def __init__(self, config: AuthConfig, http: aiohttp.ClientSession) -> None:
        self.config, self._http = config, http
        self._discovery: Discovery | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -_REFETCH_S

    async def _get_json(self, url: str) -> bytes:
        try:
            async with self._http.get(url, timeout=_TIMEOUT) as r:
                if r.status != 200:
                    raise OidcError(f"OIDC provider: GET {url} answered {r.status}")
                return await r.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise OidcError(f"OIDC provider: GET {url}: {type(exc).__name__}: {exc}") from exc

    async def discovery(self) -> Discovery:
        """The provider's endpoints (fetched once)."""
        if self._discovery is None:
            issuer = self.config.oidc_issuer.rstrip("/")
            raw = await self._get_json(f"{issuer}/.well-known/openid-configuration")
            try:
                found = msgspec.json.decode(raw, type=Discovery)
            except msgspec.DecodeError as exc:
                raise OidcError(f"OIDC provider {issuer}: bad discovery document: {exc}") from exc
            if found.issuer.rstrip("/") != issuer:
                raise OidcError(f"OIDC provider: discovery names issuer {found.issuer!r}, not {issuer!r}")
            self._discovery = found
        return self._discovery

    async def _key(self, kid: str | None) -> jwt.PyJWK:
        if kid not in self._keys and time.monotonic() - self._fetched_at >= _REFETCH_S:
            raw = await self._get_json((await self.discovery()).jwks_uri)
            self._fetched_at = time.monotonic()
            try:
                keyset = jwt.PyJWKSet.from_json(raw.decode("utf-8"))
            except (jwt.PyJWKSetError, jwt.InvalidKeyError, UnicodeDecodeError) as exc:
                raise OidcError(f"OIDC provider: bad JWKS: {exc}") from exc
            self._keys = {k.key_id or "": k for k in keyset.keys}
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        found = self._keys.get(kid or "")
        if found is None:
            raise OidcError(f"ID token signed with key {kid!r}, which the provider's JWKS does not hold")
        return found

    async def verify(self, token: str, *, nonce: str | None = None) -> Principal:
        """The principal an ID token proves; ``OidcError`` saying why when it does not verify."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise OidcError(f"not a JWT: {exc}") from exc
        if header.get("alg") not in _ALGORITHMS:
            raise OidcError(f"ID token algorithm {header.get('alg')!r} is not accepted")
        key = await self._key(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[header["alg"]],
                audience=self.config.oidc_client_id,
                issuer=(await self.discovery()).issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                leeway=30,
            )
        except jwt.InvalidTokenError as exc:
            raise OidcError(f"ID token refused: {exc}") from exc
        if nonce is not None and not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise OidcError("ID token refused: its nonce is not the one this login sent")
        return self._principal(claims)

    def _principal(self, claims: dict[str, Any]) -> Principal:
        raw = claims.get(self.config.oidc_role_claim) or self.config.oidc_default_role
        if isinstance(raw, list):  # a groups-style claim: the strongest role named wins
            named = [r for r in ("admin", "operator", "viewer") if r in raw]
            raw = named[0] if named else self.config.oidc_default_role
        if not raw:
            raise OidcError(f"ID token of {claims['sub']!r} has no {self.config.oidc_role_claim!r} claim")
        try:
            role = parse_role(str(raw))
        except ValueError as exc:
            raise OidcError(
                f"ID token of {claims['sub']!r}: claim {self.config.oidc_role_claim!r}: {exc}"
            ) from exc
        scope = self._scope(claims)
        try:
            check_limit(role, scope)
        except ValueError as exc:
            raise OidcError(f"ID token of {claims['sub']!r}: {exc}") from exc
        who = claims.get("email") or claims.get("preferred_username") or ""
        actor = f"oidc:{claims['sub']}" + (f" ({who})" if who else "")
        return Principal(actor=actor, role=role, via="oidc", scope=scope)

    def _scope(self, claims: dict[str, Any]) -> Scope:
        name = self.config.oidc_scope_claim
        raw = claims.get(name) if name else None
        if raw is None:
            return UNSCOPED
        entries = raw.replace(",", " ").split() if isinstance(raw, str) else raw
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise OidcError(f"ID token of {claims['sub']!r}: claim {name!r} is not a list of strings")
        try:
            return parse_scope(entries)
        except ScopeError as exc:
            raise OidcError(f"ID token of {claims['sub']!r}: claim {name!r}: {exc}") from exc

    async def start(self, redirect_uri: str) -> LoginStart:
        """A new login: the authorization URL (code flow, S256 PKCE, state and nonce)."""
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        query = {
            "response_type": "code",
            "client_id": self.config.oidc_client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid email profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
        endpoint = (await self.discovery()).authorization_endpoint
        sep = "&" if "?" in endpoint else "?"
        return LoginStart(
            url=f"{endpoint}{sep}{urlencode(query)}", state=state, nonce=nonce, verifier=verifier
        )

    async def finish(self, code: str, redirect_uri: str, login: LoginStart) -> Principal:
        """Exchange the callback's ``code`` (with the PKCE verifier) and verify the ID token."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.config.oidc_client_id,
            "code_verifier": login.verifier,
        }
        auth = None
        if self.config.oidc_client_secret:
            auth = aiohttp.BasicAuth(self.config.oidc_client_id, self.config.oidc_client_secret)
        endpoint = (await self.discovery()).token_endpoint
        try:
            async with self._http.post(endpoint, data=form, auth=auth, timeout=_TIMEOUT) as r:
                body = await r.read()
                if r.status != 200:
                    raise OidcError(f"OIDC provider refused the code ({r.status}): {body[:300]!r}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise OidcError(f"OIDC provider: POST {endpoint}: {type(exc).__name__}: {exc}") from exc
        try:
            answer = msgspec.json.decode(body, type=_TokenAnswer)
        except msgspec.DecodeError as exc:
            raise OidcError(f"OIDC provider: token response without an id_token: {exc}") from exc
        return await self.verify(answer.id_token, nonce=login.nonce)
