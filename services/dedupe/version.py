"""The analysis version dedupe decides with: the one the engines recorded, read from PostgreSQL.

The engine computes it once from its own analyzers and rules (``services.engine.core.
analysis_version``) and records it at start-up (``analysis_versions``, migration 0006); dedupe
never builds a content analyzer (no YARA, no clamd in its import closure). When it changes,
dedupe rescans an image on its next sighting (``reason=analyzer-changed``).

Until an engine has recorded one, there is nothing to compare against and nobody to scan: the
claim waits for the first engine (a log line says so) rather than request scans under a made-up
version that every image would have to be rescanned away from.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from services.common.scan_requests import NoAnalysisVersion, recorded_version

__all__ = ["CurrentVersion", "NoAnalysisVersion", "recorded_version"]

log = logging.getLogger(__name__)

Read = Callable[[], Awaitable[str | None]]


class CurrentVersion:
    """The recorded version, read again at most every ``refresh_s`` seconds."""

    def __init__(self, read: Read, *, refresh_s: float = 30.0, poll_s: float = 2.0) -> None:
        self._read = read
        self._refresh_s = refresh_s
        self._poll_s = poll_s
        self._value: str | None = None
        self._at = 0.0

    async def get(self) -> str:
        """The version to claim with; waits for the first engine when none is recorded yet."""
        if self._value is not None and time.monotonic() - self._at < self._refresh_s:
            return self._value
        waited = 0.0
        while True:
            value = await self._read()
            if value:
                if value != self._value and self._value is not None:
                    log.info("dedupe: the engines' analysis version is now %s (was %s)", value, self._value)
                self._value, self._at = value, time.monotonic()
                return value
            if self._value is not None:
                return self._value
            if waited % 30 < self._poll_s:
                log.warning("dedupe: waiting for an engine to record its analysis version")
            await asyncio.sleep(self._poll_s)
            waited += self._poll_s
