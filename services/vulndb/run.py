"""One run of ``update_db``: fetching or fingerprinting sources, and the writer created on first change."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from services.common.clock import utcnow
from services.vulndb.sources import Fetched, Validators, fetch, file_stamp, is_url
from services.vulndb.store import DatabaseWriter, SourceState

if TYPE_CHECKING:
    import aiohttp

_TICK_S: Final = 0.5

Say = Callable[[str], None]
"""Receives one progress line."""


class Ticker:
    """Rate-limits transient progress updates (at most one per ``_TICK_S``)."""

    def __init__(self, status: Say | None) -> None:
        self._status = status
        self._last = 0.0

    def __call__(self, line: str) -> None:
        now = time.monotonic()
        if self._status is not None and now - self._last >= _TICK_S:
            self._last = now
            self._status(line)


def now() -> str:
    """The current UTC time, RFC 3339 to the second (``services.common.clock``)."""
    return utcnow()


def mb(n: int) -> str:
    """``n`` bytes in decimal megabytes, for progress lines."""
    return f"{n / 1e6:.1f} MB"


class UpdateRun:
    """One run of ``update_db``: the state shared by its steps."""

    def __init__(
        self,
        db_path: Path,
        tmp: Path,
        previous: dict[str, SourceState] | None,
        say: Say,
        tick: Ticker,
        stack: contextlib.AsyncExitStack,
        *,
        nvd_api_key: str = "",
    ) -> None:
        self.db_path = db_path
        self.nvd_api_key = nvd_api_key  # a credential: only ever in the apiKey header to NVD
        self.tmp = tmp
        self.previous = previous or {}
        self.incremental = previous is not None
        self.say = say
        self.tick = tick
        self._stack = stack
        self._session: aiohttp.ClientSession | None = None
        self.writer: DatabaseWriter | None = None
        self.meta: dict[str, str] = {}
        self._downloads = 0

    async def session(self) -> aiohttp.ClientSession:
        """The HTTP session, opened on first use and closed with the run."""
        if self._session is None:
            import aiohttp  # only URL sources need it; a local update starts faster without

            timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=300)
            self._session = await self._stack.enter_async_context(aiohttp.ClientSession(timeout=timeout))
        return self._session

    async def open_writer(self) -> DatabaseWriter:
        """The writer, created on the first change (a copy of the database when incremental)."""
        if self.writer is None:
            self.writer = await asyncio.to_thread(DatabaseWriter, self.db_path, incremental=self.incremental)
        return self.writer

    async def obtain(self, location: str, label: str, kind: str, selection: str) -> tuple[Fetched, Path]:
        """Fetch or fingerprint one source; "unchanged" when its fingerprint matches the last update."""
        before = self.previous.get(location)
        same_selection = before is not None and before.selection == selection and before.status == "ok"
        if is_url(location):
            self._downloads += 1
            dest = self.tmp / f"{kind}-{self._downloads}"
            self.say(f"{label}: fetching {location}")

            def on_bytes(done: int, total: int) -> None:
                of = f" of {mb(total)}" if total else ""
                self.tick(f"{label}: {mb(done)}{of} downloaded")

            prior = (
                Validators(etag=before.etag, last_modified=before.last_modified)
                if before is not None and same_selection
                else None
            )
            got = await fetch(await self.session(), location, dest, previous=prior, on_bytes=on_bytes)
            if got.status == "ok":
                self.say(f"{label}: downloaded {got.bytes} bytes ({mb(got.bytes)})")
            return got, dest
        path = Path(location)
        stamp = await asyncio.to_thread(file_stamp, path)
        validators = Validators(file_stamp=stamp)
        if same_selection and before is not None and before.fingerprint == validators.fingerprint():
            return Fetched(status="unchanged", validators=validators), path
        self.say(f"{label}: reading {location}")
        return Fetched(status="ok", validators=validators), path
