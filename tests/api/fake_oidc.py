"""A small OpenID Connect provider for tests, speaking the real wire format.

- ``/.well-known/openid-configuration``: discovery (OpenID Connect Discovery 1.0, section 3);
- ``/authorize``: the authorization endpoint; it "logs in" the configured user at once and
  redirects back with ``code`` and ``state``, as a provider does after its own login page;
- ``/token``: the token endpoint (RFC 6749 4.1.3 with RFC 7636 PKCE: S256 only), answering
  ``{"access_token", "token_type", "expires_in", "id_token"}`` or ``{"error": ...}`` with 400;
- ``/jwks``: the JSON Web Key Set of its RS256 signing key.

ID tokens are RS256 JWTs with ``iss``, ``sub``, ``aud``, ``exp``, ``iat``, ``nonce`` and the
user's extra claims. ``sign`` makes tokens for bearer tests, with this key or another.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey


def new_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeIssuer:
    """The provider's state; ``issuer`` is set once its server listens."""

    client_id: str = "assay-console"
    issuer: str = ""
    key: RSAPrivateKey = field(default_factory=new_key)
    kid: str = "test-key-1"
    user: dict[str, Any] = field(default_factory=lambda: {"sub": "u-123", "email": "ada@example.com"})
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def sign(
        self, claims: dict[str, Any], *, key: RSAPrivateKey | None = None, kid: str | None = None
    ) -> str:
        """An RS256 ID token: the standard claims for this issuer and client, then ``claims``."""
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            **self.user,
            **claims,
        }
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/jwks", self._jwks)
        return app

    async def _discovery(self, _: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none", "client_secret_basic"],
            }
        )

    async def _jwks(self, _: web.Request) -> web.Response:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return web.json_response({"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]})

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        if q.get("response_type") != "code" or q.get("client_id") != self.client_id:
            return web.json_response({"error": "unauthorized_client"}, status=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return web.json_response(
                {"error": "invalid_request", "error_description": "PKCE S256"}, status=400
            )
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "challenge": q["code_challenge"],
            "redirect_uri": q["redirect_uri"],
            "nonce": q.get("nonce", ""),
        }
        target = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}"
        raise web.HTTPFound(target)

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append(form)
        grant = self.codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or grant is None:
            return web.json_response({"error": "invalid_grant"}, status=400)
        if form.get("redirect_uri") != grant["redirect_uri"] or form.get("client_id") != self.client_id:
            return web.json_response({"error": "invalid_grant"}, status=400)
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).decode().rstrip("=") != grant["challenge"]:
            return web.json_response({"error": "invalid_grant", "error_description": "PKCE"}, status=400)
        id_token = self.sign({"nonce": grant["nonce"]})
        return web.json_response(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )
