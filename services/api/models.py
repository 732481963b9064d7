"""Response bodies of the read API: msgspec Structs, from which the OpenAPI schemas are generated."""

from __future__ import annotations

import msgspec

from services.api.store import FindingView, ImageLocation, ImageView

__all__ = ["FindingPage", "FindingView", "Health", "ImageLocation", "ImagePage", "ImageView", "Problem"]


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
