"""Response bodies of the read API: msgspec Structs, from which the OpenAPI schemas are generated."""

from __future__ import annotations

from typing import Final

import msgspec
from aiohttp import web

from services.api.store import FindingView, ImageLocation, ImageView

__all__ = [
    "FindingPage",
    "FindingView",
    "Health",
    "ImageLocation",
    "ImagePage",
    "ImageView",
    "Problem",
    "json_response",
    "problem_response",
]

_ENCODER: Final = msgspec.json.Encoder()


class ImagePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of images, by digest. ``next``: the link to the following page, null on the last."""

    items: list[ImageView]
    next: str | None = None


class FindingPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of findings, most severe first. ``next``: the link to the following page, null on the last."""

    items: list[FindingView]
    next: str | None = None


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """An error: the HTTP status and a message saying what was wrong."""

    status: int
    error: str


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """Liveness and database reachability."""

    status: str  # "ok" or "unavailable"
    database: str = ""  # the store error when unavailable


def json_response(body: msgspec.Struct, status: int = 200, **headers: str) -> web.Response:
    """``body`` as a JSON response."""
    return web.Response(
        body=_ENCODER.encode(body), status=status, content_type="application/json", headers=headers
    )


def problem_response(status: int, message: str) -> web.Response:
    """A ``Problem`` response: ``status`` and the message saying what was wrong."""
    return json_response(Problem(status=status, error=message), status)
