"""The notification endpoints inventory serves, and what each publishes.

``POST /hooks/distribution/{host}`` (a distribution registry's ``notifications`` endpoint),
``POST /hooks/harbor/{host}`` (a Harbor project webhook) and ``POST /hooks/ecr`` (an EventBridge
API destination for ECR image actions). ``{host}`` must be a configured registry, and ECR events
must come from a configured ``aws.ecr_registry_ids`` account: a sender speaks only for the
registry it was set up for, and every sender presents the token (``Authorization: Bearer``).
Each parsed event is published (``Publisher``, keyed by digest) before the answer, so a 200 means
it is on the bus; the sender retries anything else. ``WebhookSource`` serves them as an
``InventorySource``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Final

import msgspec
from aiohttp import web
from aiohttp.typedefs import Middleware

from services.common.clock import utcnow
from services.common.config import RegistryConfig
from services.common.errors import ConfigError
from services.common.inventory import Publisher
from services.common.serve import serve_app
from services.inventory.webhooks.distribution import parse_distribution
from services.inventory.webhooks.ecr import parse_ecr
from services.inventory.webhooks.harbor import parse_harbor
from services.inventory.webhooks.model import Parsed, WebhookError

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["WebhookSource", "make_webhook_app"]

log = logging.getLogger(__name__)

_ENCODER: Final = msgspec.json.Encoder()
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _answer(status: int, **body: object) -> web.Response:
    return web.Response(body=_ENCODER.encode(body), status=status, content_type="application/json")


def _token_check(token: str) -> Middleware:
    @web.middleware
    async def check(request: web.Request, handler: _Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return _answer(401, error="a bearer token is required")
        return await handler(request)

    return check


class _Hooks:
    """The handlers, over the configured registries and ECR accounts."""

    def __init__(self, settings: Settings, publisher: Publisher, now: Callable[[], str]) -> None:
        self._registries: Mapping[str, RegistryConfig] = {r.host: r for r in settings.registries}
        self._accounts = frozenset(settings.aws.ecr_registry_ids)
        self._publisher = publisher
        self._now = now

    async def _publish(self, sender: str, parsed: Parsed) -> web.Response:
        for event in parsed.events:
            await self._publisher.publish(event)
        for reason in parsed.skipped:
            log.debug("webhooks: %s: skipped %s", sender, reason)
        log.info("webhooks: %s: published %d event(s)", sender, len(parsed.events))
        return _answer(200, published=len(parsed.events), skipped=parsed.skipped)

    async def _registry_hook(self, request: web.Request, parse: Callable[..., Parsed]) -> web.Response:
        host = request.match_info["host"]
        registry = self._registries.get(host)
        if registry is None:
            return _answer(404, error=f"{host} is not a configured registry")
        try:
            parsed = parse(await request.read(), host, self._now, ou=registry.ou)
        except WebhookError as exc:
            return _answer(400, error=str(exc))
        return await self._publish(f"{request.path}", parsed)

    async def distribution(self, request: web.Request) -> web.Response:
        return await self._registry_hook(request, parse_distribution)

    async def harbor(self, request: web.Request) -> web.Response:
        return await self._registry_hook(request, parse_harbor)

    async def ecr(self, request: web.Request) -> web.Response:
        try:
            parsed = parse_ecr(await request.read(), self._accounts, self._now)
        except WebhookError as exc:
            return _answer(400, error=str(exc))
        return await self._publish(request.path, parsed)


def make_webhook_app(settings: Settings, publisher: Publisher, now: Callable[[], str]) -> web.Application:
    """The endpoints; ``ConfigError`` when listening is asked for without a token."""
    cfg = settings.webhooks
    if not cfg.token:
        raise ConfigError("ASSAY_WEBHOOKS_TOKEN: required when ASSAY_WEBHOOKS_LISTEN is set")
    hooks = _Hooks(settings, publisher, now)
    app = web.Application(middlewares=[_token_check(cfg.token)], client_max_size=cfg.max_body_bytes)
    app.router.add_post("/hooks/distribution/{host}", hooks.distribution)
    app.router.add_post("/hooks/harbor/{host}", hooks.harbor)
    app.router.add_post("/hooks/ecr", hooks.ecr)
    return app


class WebhookSource:
    """``InventorySource``: the notification endpoints on ``webhooks.listen`` until stopped."""

    name = "webhooks"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def run(self, publish: Publisher, stop: asyncio.Event) -> None:
        app = make_webhook_app(self._settings, publish, utcnow)
        listen = self._settings.webhooks.listen
        await serve_app(app, listen, stop, setting="ASSAY_WEBHOOKS_LISTEN", log=log)
