"""Serving the read API: parse ``api_listen``, bind, serve until told to stop, then clean up."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from services.api.app import make_app
from services.common.errors import ConfigError
from services.common.store.queries import Reads

__all__ = ["parse_listen", "serve_api"]

log = logging.getLogger(__name__)


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6) as (host, port); ``ConfigError`` naming the setting."""
    host, sep, port = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"ASSAY_API_LISTEN: expected HOST:PORT (e.g. 127.0.0.1:8080), not {value!r}")
    return host, int(port)


async def serve_api(reads: Reads, listen: str, stop: asyncio.Event) -> None:
    """Serve the read API on ``listen`` until ``stop`` is set; requests in flight finish first."""
    host, port = parse_listen(listen)
    runner = web.AppRunner(make_app(reads), access_log=log)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(f"ASSAY_API_LISTEN: cannot listen on {listen}: {exc}") from exc
        log.info("api: serving on http://%s:%d (OpenAPI at /openapi.json)", host, port)
        await stop.wait()
    finally:
        await runner.cleanup()
