"""Serving the read API on ``api_listen`` until told to stop."""

from __future__ import annotations

import asyncio
import logging

from services.api.app import make_app
from services.common.serve import parse_listen, serve_app
from services.common.store.queries import Reads

__all__ = ["parse_listen", "serve_api"]

log = logging.getLogger(__name__)


async def serve_api(reads: Reads, listen: str, stop: asyncio.Event) -> None:
    """Serve the read API (OpenAPI at ``/openapi.json``) on ``listen`` until ``stop`` is set."""
    await serve_app(make_app(reads), listen, stop, setting="ASSAY_API_LISTEN", log=log)
