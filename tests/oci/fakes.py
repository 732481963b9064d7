"""Faithful fakes of the token services no one can run here, as aiohttp apps on loopback.

- ``acr_app``: Azure Container Registry's AAD flow, as documented in Azure/acr ``docs/AAD-OAuth.md``:
  ``POST /oauth2/exchange`` (form ``grant_type=access_token``, ``service``, ``tenant``,
  ``access_token``) answers ``{"refresh_token": JWT}``; ``/oauth2/token`` takes that refresh token
  as the Basic password of ``00000000-0000-0000-0000-000000000000`` (GET, what docker does) or as
  ``refresh_token`` in a ``grant_type=refresh_token`` POST (the distribution OAuth2 flow), and
  answers ``{"access_token": JWT}``; ``/v2/...`` wants ``Bearer <access token>`` and challenges
  ``Bearer realm="<own>/oauth2/token",service="<host>"``.
- ``gce_metadata_app``: the GCE metadata server's token endpoint
  (``/computeMetadata/v1/instance/service-accounts/default/token``): it refuses requests without
  ``Metadata-Flavor: Google`` (403) and answers ``{"access_token", "expires_in", "token_type"}``
  with ``Metadata-Flavor: Google`` on the response.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

ACR_USER = "00000000-0000-0000-0000-000000000000"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + "a" * 64,
            "size": 2,
        },
        "layers": [],
    }
).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


def fake_jwt(claims: dict[str, object]) -> str:
    """An unsigned JWT-shaped token (the client only reads ``exp``; only the fake checks it)."""

    def part(doc: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"


@dataclass
class AcrState:
    """What the fake ACR expects and saw."""

    aad_token: str
    tenant: str = ""
    exchanges: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[str] = field(default_factory=list)  # "GET basic" / "POST refresh_token"
    refresh_tokens: set[str] = field(default_factory=set)
    access_tokens: set[str] = field(default_factory=set)


def acr_app(state: AcrState) -> web.Application:
    """The fake registry (see the module docstring); ``app:1`` is its one image."""

    async def exchange(request: web.Request) -> web.Response:
        form = dict(await request.post())
        state.exchanges.append({k: str(v) for k, v in form.items()})
        if form.get("grant_type") != "access_token" or form.get("service") != request.host:
            return web.json_response({"errors": [{"code": "UNSUPPORTED"}]}, status=400)
        if form.get("access_token") != state.aad_token or (
            state.tenant and form.get("tenant") != state.tenant
        ):
            return web.json_response({"errors": [{"code": "UNAUTHORIZED"}]}, status=401)
        refresh = fake_jwt({"exp": int(time.time()) + 3 * 3600, "n": len(state.exchanges)})
        state.refresh_tokens.add(refresh)
        return web.json_response({"refresh_token": refresh})

    def issue(scope: str) -> web.Response:
        access = fake_jwt({"exp": int(time.time()) + 1200, "scope": scope, "n": len(state.access_tokens)})
        state.access_tokens.add(access)
        return web.json_response({"access_token": access})

    async def token_get(request: web.Request) -> web.Response:
        state.token_requests.append("GET basic")
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Basic":
            return web.Response(status=401)
        user, _, password = base64.b64decode(value).decode().partition(":")
        if user != ACR_USER or password not in state.refresh_tokens:
            return web.Response(status=401)
        return issue(request.query.get("scope", ""))

    async def token_post(request: web.Request) -> web.Response:
        state.token_requests.append("POST refresh_token")
        form = await request.post()
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") not in state.refresh_tokens:
            return web.Response(status=401)
        return issue(str(form.get("scope", "")))

    async def v2(request: web.Request) -> web.Response:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or value not in state.access_tokens:
            realm = f"http://{request.host}/oauth2/token"
            challenge = f'Bearer realm="{realm}",service="{request.host}"'
            return web.json_response(
                {"errors": [{"code": "UNAUTHORIZED"}]}, status=401, headers={"WWW-Authenticate": challenge}
            )
        if request.match_info["tail"] not in ("app/manifests/1", f"app/manifests/{MANIFEST_DIGEST}"):
            return web.json_response({"errors": [{"code": "MANIFEST_UNKNOWN"}]}, status=404)
        headers = {"Docker-Content-Digest": MANIFEST_DIGEST}
        return web.Response(
            body=MANIFEST, content_type="application/vnd.oci.image.manifest.v1+json", headers=headers
        )

    app = web.Application()
    app.router.add_post("/oauth2/exchange", exchange)
    app.router.add_get("/oauth2/token", token_get)
    app.router.add_post("/oauth2/token", token_post)
    app.router.add_route("*", "/v2/{tail:.*}", v2)
    return app


@dataclass
class MetadataState:
    """The access token the fake metadata server hands out, and how often it was asked."""

    token: str
    expires_in: int = 3599
    calls: int = 0


def gce_metadata_app(state: MetadataState) -> web.Application:
    """The fake GCE metadata server (see the module docstring)."""

    async def token(request: web.Request) -> web.Response:
        if request.headers.get("Metadata-Flavor") != "Google":
            return web.Response(status=403, text="Missing required header: Metadata-Flavor")
        state.calls += 1
        body = {"access_token": state.token, "expires_in": state.expires_in, "token_type": "Bearer"}
        return web.json_response(body, headers={"Metadata-Flavor": "Google"})

    app = web.Application()
    app.router.add_get("/computeMetadata/v1/instance/service-accounts/default/token", token)
    return app


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port; yields ``127.0.0.1:PORT``."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()
