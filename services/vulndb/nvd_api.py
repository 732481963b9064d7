"""Mirroring NVD's CVE API 2.0 into a folder, incrementally, for the CVSS loader (``cvss_nvd``).

NVD serves its CVE records at ``https://services.nvd.nist.gov/rest/json/cves/2.0`` in pages of at
most 2,000 (``startIndex``, ``resultsPerPage``, answered with ``totalResults``); 1,000 are
asked. A client that keeps up asks only for what changed: ``lastModStartDate`` and
``lastModEndDate`` (ISO 8601, a range of at most 120 days, so a longer gap is several
ranges). An API key (``apiKey`` header) raises the rate limit; without one NVD allows 5
requests in 30 seconds, so pages are spaced.

``sync_nvd`` writes each answered page as it came (``nvd-<range start>-<index>.json``, through
a temporary file) into ``dest`` and records the end of the range it completed in
``dest/.nvd-state``; the next call starts there. The first call, with no state, takes the
whole list (no date range). ``assay db update --cvss dest`` then loads every page; a CVE
changed twice is in two pages, and the later page's rows replace the earlier ones because
files are read in name order. A failed request raises ``VulnDBError`` naming the URL and the
status, and leaves the state where the last complete range ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final
from urllib.parse import urlencode

import msgspec

from services.common.errors import VulnDBError
from services.common.files import write_atomic

__all__ = ["NVD_API", "Fetch", "sync_nvd"]

NVD_API: Final = "https://services.nvd.nist.gov/rest/json/cves/2.0"
MAX_RANGE: Final = timedelta(days=120)  # NVD refuses a longer lastMod range
PAGE_SIZE: Final = 1000  # NVD allows 2,000; 1,000 keeps a page well under the loader's 32 MiB a file
STATE: Final = ".nvd-state"  # not *.json: the loader reads only the pages

Fetch = Callable[[str, dict[str, str]], Awaitable[tuple[int, bytes]]]
"""``fetch(url, headers)`` -> (HTTP status, body)."""


class _Page(msgspec.Struct):
    totalResults: int  # NVD's field names
    resultsPerPage: int
    startIndex: int = 0


class _State(msgspec.Struct):
    last_modified: datetime


def _last_sync(dest: Path) -> datetime | None:
    dest.mkdir(parents=True, exist_ok=True)
    state = dest / STATE
    return msgspec.json.decode(state.read_bytes(), type=_State).last_modified if state.exists() else None


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _ranges(start: datetime | None, end: datetime) -> list[tuple[datetime, datetime] | None]:
    """The lastMod ranges from ``start`` to ``end``, each at most 120 days; [None] for everything."""
    if start is None:
        return [None]
    out: list[tuple[datetime, datetime] | None] = []
    while start < end:
        stop = min(start + MAX_RANGE, end)
        out.append((start, stop))
        start = stop
    return out


async def _fetch_range(
    fetch: Fetch,
    base: str,
    headers: dict[str, str],
    span: tuple[datetime, datetime] | None,
    dest: Path,
    pause: float,
) -> int:
    query: dict[str, str | int] = (
        {} if span is None else {"lastModStartDate": _stamp(span[0]), "lastModEndDate": _stamp(span[1])}
    )
    tag = "0-all" if span is None else span[0].strftime("%Y%m%dT%H%M%S")  # sorts in time order
    index = pages = 0
    while True:
        url = f"{base}?{urlencode({**query, 'startIndex': index, 'resultsPerPage': PAGE_SIZE})}"
        status, body = await fetch(url, headers)
        if status != 200:
            raise VulnDBError(f"NVD API {url} answered HTTP {status}")
        try:
            page = msgspec.json.decode(body, type=_Page)
        except msgspec.MsgspecError as exc:
            raise VulnDBError(f"NVD API {url} answered something that is not a CVE API page: {exc}") from exc
        await asyncio.to_thread(write_atomic, dest / f"nvd-{tag}-{index:08d}.json", body)
        pages += 1
        index += page.resultsPerPage
        if page.resultsPerPage == 0 or index >= page.totalResults:
            return pages
        await asyncio.sleep(pause)


async def sync_nvd(
    dest: Path,
    fetch: Fetch,
    *,
    now: datetime,
    base_url: str = NVD_API,
    api_key: str | None = None,
    pause: float | None = None,
) -> int:
    """Download into ``dest`` every CVE record NVD changed since the last sync (all of them the
    first time); returns the number of pages written. ``now`` (timezone-aware) ends the range."""
    start = await asyncio.to_thread(_last_sync, dest)
    headers = {"apiKey": api_key} if api_key else {}
    wait = pause if pause is not None else (0.6 if api_key else 6.0)  # NVD: 50 or 5 requests per 30 s
    pages = 0
    for span in _ranges(start, now):
        pages += await _fetch_range(fetch, base_url, headers, span, dest, wait)
        done = now if span is None else span[1]
        await asyncio.to_thread(write_atomic, dest / STATE, msgspec.json.encode(_State(last_modified=done)))
    return pages
