"""The webhook's HTTPS endpoint: ``POST /validate`` (AdmissionReview in, AdmissionReview out)."""

from __future__ import annotations

import ssl
from typing import Final

from aiohttp import web

from services.admission.gate import Gate
from services.common.errors import ConfigError

__all__ = ["GATE", "make_app", "tls_context"]

GATE: Final = web.AppKey("gate", Gate)


async def _validate(request: web.Request) -> web.Response:
    try:
        body = await request.app[GATE].review(await request.read())
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    return web.Response(body=body, content_type="application/json")


async def _healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app(gate: Gate, max_body_bytes: int = 3 * 1024 * 1024) -> web.Application:
    """The webhook application (the API server sends at most about 3 MiB per object)."""
    app = web.Application(client_max_size=max_body_bytes)
    app[GATE] = gate
    app.router.add_post("/validate", _validate)
    app.router.add_get("/healthz", _healthz)
    return app


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """The server TLS context; ``ConfigError`` naming the settings when the files cannot be used."""
    if not cert or not key:
        raise ConfigError(
            "ASSAY_ADMISSION_TLS_CERT and ASSAY_ADMISSION_TLS_KEY: the API server calls webhooks over HTTPS"
        )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"ASSAY_ADMISSION_TLS_CERT/_KEY: cannot load {cert}, {key}: {exc}") from exc
    return context
