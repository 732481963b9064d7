"""The read model as the calling principal may see it: every route reads through ``reads_for``.

A principal limited to some environments or OUs (``Principal.scope``) gets ``Reads.scoped``: its
lists hold only their images, findings and workloads, and an image or finding outside them is
not found. Changes check the scope of what they name and raise ``OutOfScope`` (403).
"""

from __future__ import annotations

from aiohttp import web

from services.api.auth.middleware import PRINCIPAL
from services.api.store import Reads

__all__ = ["reads_for"]


def reads_for(request: web.Request, key: web.AppKey[Reads]) -> Reads:
    """``request.app[key]`` within the scope of the request's principal (set by the auth middleware;
    a route without one fails closed with a ``KeyError``)."""
    return request.app[key].scoped(request[PRINCIPAL].scope)
