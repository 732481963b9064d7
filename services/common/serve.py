"""Serving an aiohttp application on a ``HOST:PORT`` setting until told to stop.

One place for what every HTTP-serving workload (read API, Harbor adapter, node daemon) needs:
parse the listen setting with an error that names it, bind, serve until ``stop`` is set, let
requests in flight finish, clean up.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from services.common.errors import ConfigError

__all__ = ["PathOnlyAccessLogger", "parse_listen", "serve_app"]


class PathOnlyAccessLogger(AbstractAccessLogger):
    """One line per request: client, method, path (never the query string, which can carry an
    OIDC ``code``, a cursor or a token), status, bytes and seconds; no Referer or User-Agent."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %d %d %.3fs",
            request.remote or "-",
            request.method,
            request.path,
            response.status,
            response.body_length,
            time,
        )


def parse_listen(value: str, setting: str = "ASSAY_API_LISTEN") -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6) as (host, port); ``ConfigError`` naming ``setting``."""
    host, sep, port = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{setting}: expected HOST:PORT (e.g. 127.0.0.1:8080), not {value!r}")
    return host, int(port)


async def serve_app(
    app: web.Application,
    listen: str,
    stop: asyncio.Event,
    *,
    setting: str,
    log: logging.Logger,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Serve ``app`` on ``listen`` (HTTPS with ``ssl_context``) until ``stop`` is set; requests in
    flight finish first."""
    host, port = parse_listen(listen, setting)
    runner = web.AppRunner(app, access_log=log, access_log_class=PathOnlyAccessLogger)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(f"{setting}: cannot listen on {listen}: {exc}") from exc
        log.info("serving on %s://%s:%d", "https" if ssl_context else "http", host, port)
        await stop.wait()
    finally:
        await runner.cleanup()
