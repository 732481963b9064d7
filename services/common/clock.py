"""The one clock and the one timestamp format: RFC 3339, UTC, to the second, ``Z``.

Every timestamp Assay writes (events, the read API, the console, reports) goes through
``rfc3339`` (or ``utcnow``, which is ``rfc3339`` of now), so consumers see one spelling:
``2024-05-02T10:15:09Z``, never ``+00:00`` and never fractions of a second.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["FORMAT", "rfc3339", "utcnow"]

FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # strftime/strptime form of the timestamps the wire carries


def rfc3339(value: dt.datetime) -> str:
    """``value`` as the wire writes timestamps (UTC, to the second, ``Z``); a naive value is taken as UTC."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).strftime(FORMAT)


def utcnow() -> str:
    """Now, as RFC 3339 UTC (``rfc3339``)."""
    return rfc3339(dt.datetime.now(dt.UTC))
