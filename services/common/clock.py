"""The one clock: now, as the wire writes timestamps (RFC 3339, UTC, to the second, ``Z``)."""

from __future__ import annotations

import datetime as dt

__all__ = ["utcnow"]


def utcnow() -> str:
    """Now, as RFC 3339 UTC."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
