"""What every console page shares: the console's dependencies on the app, rendering a page for the
signed-in principal (with the session's CSRF token for forms), and the error/header wrapper.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import jinja2
from aiohttp import web

from services.api.auth.middleware import PRINCIPAL, SESSION_CSRF
from services.api.auth.roles import Principal, allows
from services.api.params import ParamError
from services.api.scope import OutOfScope
from services.api.store import Reads
from services.common.errors import AssayError
from services.console.render import Assets, secure

__all__ = ["CONSOLE", "Console", "Handler", "guarded", "not_found", "page", "query_of", "reads_of"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Console:
    """The console's dependencies, built once when it is mounted."""

    reads: Reads
    templates: jinja2.Environment
    assets: Assets
    max_rows: int
    rulesets_dir: str = ""  # the policy's extra rulesets (``rulesets.dir``), shown on the Rulesets page


CONSOLE: Final = web.AppKey("console", Console)


def reads_of(request: web.Request) -> Reads:
    """The read model within the signed-in principal's scope: what every page reads findings,
    images, alerts and environments through (the whole store for an unlimited principal)."""
    return request.app[CONSOLE].reads.scoped(request[PRINCIPAL].scope)


def query_of(request: web.Request) -> dict[str, list[str]]:
    """The request's query string as lists of values."""
    return {k: request.query.getall(k) for k in request.query}


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """Render ``template`` for the request's principal: ``me``, ``can(role)`` and ``csrf`` are set."""
    me: Principal | None = request.get(PRINCIPAL)
    html = (
        request.app[CONSOLE]
        .templates.get_template(template)
        .render(
            me=me,
            can=lambda role: me is not None and allows(me.role, role),
            csrf=request.get(SESSION_CSRF, ""),
            **context,
        )
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def not_found(request: web.Request, message: str) -> web.Response:
    """The 404 page."""
    return page(request, "error.html", 404, title="Not found", message=message)


def guarded(handler: Handler) -> Handler:
    """Security headers on every answer; bad parameters (400) and store/bus failures (503) as pages."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except ParamError as exc:
            response = page(request, "error.html", 400, title="Bad request", message=str(exc))
        except OutOfScope as exc:
            response = page(request, "error.html", 403, title="Forbidden", message=str(exc))
        except AssayError as exc:
            response = page(request, "error.html", 503, title="Unavailable", message=str(exc))
        except web.HTTPRedirection as exc:
            response = web.Response(status=exc.status, headers=exc.headers)
        return secure(response)

    return wrapped
