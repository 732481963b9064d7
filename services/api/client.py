"""``assay images`` and ``assay findings`` with filters: from the read API, or straight from PostgreSQL.

Both paths take the same query parameters and validate them with the same rules
(``services.api.params``), so a filter means the same thing on the command line and over HTTP.
With ``--api URL`` the command follows the API's ``next`` links; without it, it pages through
the store with the same keyset cursors.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlencode, urljoin

import aiohttp
import msgspec

from schemas.vocabulary import severity_rank
from services.api.params import MAX_LIMIT, ParamError, finding_filter, image_filter
from services.api.store import FindingView, ImageView, Reads
from services.common.errors import AssayError, ConfigError
from services.common.store.postgres import Store

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["ApiError", "fetch_pages", "run_findings", "run_images"]

Query = Mapping[str, Sequence[str]]


class ApiError(AssayError):
    """The read API could not be reached or answered with an error (its message included)."""


class _Page(msgspec.Struct):
    items: list[msgspec.Raw]
    next: str | None = None


async def fetch_pages(
    base_url: str, path: str, query: Query, token: str = ""
) -> AsyncIterator[list[msgspec.Raw]]:
    """Each page's items from ``GET base_url + path?query``, following ``next`` links to the end.

    ``token``: the API token sent as ``Authorization: Bearer`` (``ASSAY_API_TOKEN``)."""
    url: str | None = urljoin(base_url.rstrip("/") + "/", path.lstrip("/"))
    pairs = [(k, v) for k, values in query.items() for v in values]
    url = f"{url}?{urlencode(pairs)}" if pairs else url
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            while url is not None:
                async with session.get(url) as response:
                    body = await response.read()
                    if response.status != 200:
                        try:
                            detail = msgspec.json.decode(body, type=dict[str, object]).get("error", "")
                        except msgspec.DecodeError:
                            detail = body[:200].decode("utf-8", "replace")
                        if response.status == 401:
                            detail = f"{detail} (set ASSAY_API_TOKEN to an API token)"
                        raise ApiError(f"{url}: HTTP {response.status}: {detail}")
                page = msgspec.json.decode(body, type=_Page)
                yield page.items
                url = urljoin(url, page.next) if page.next else None
    except aiohttp.ClientError as exc:
        raise ApiError(f"cannot reach the read API at {base_url}: {type(exc).__name__}: {exc}") from exc


async def _store_images(reads: Reads, query: Query) -> AsyncIterator[list[ImageView]]:
    flt = image_filter({**query, "limit": [str(MAX_LIMIT)]})
    while rows := await reads.images(flt):
        yield rows
        flt = msgspec.structs.replace(flt, after=rows[-1].digest)


async def _store_findings(reads: Reads, query: Query) -> AsyncIterator[list[FindingView]]:
    flt = finding_filter({**query, "limit": [str(MAX_LIMIT)]})
    while rows := await reads.findings(flt):
        yield rows
        last = rows[-1]
        flt = msgspec.structs.replace(flt, after=(severity_rank(last.severity), last.finding_id))


def _image_line(image: ImageView) -> str:
    counts = " ".join(
        f"{sev[0]}:{n}" for sev, n in sorted(image.finding_counts.items(), key=lambda kv: kv[0])
    )
    line = f"{image.status:<9} {image.digest} {image.image_ref or '-'} [{', '.join(image.environments)}]"
    return f"{line} {counts}".rstrip()


def _finding_line(f: FindingView) -> str:
    where = ", ".join(f.environments) or f.environment
    return (
        f"{f.severity:<9} {f.category:<9} {f.id:<22} {f.package_name} {f.installed_version} "
        f"-> {f.fixed_version or '-'}  {f.digest[:19]} ({where})"
    )


async def _items(
    kind: str, settings: Settings, api: str | None, query: Query
) -> AsyncIterator[ImageView | FindingView]:
    view: type[ImageView | FindingView] = ImageView if kind == "images" else FindingView
    if api:
        (image_filter if kind == "images" else finding_filter)(query)  # fail fast, with the same message
        async for raw_page in fetch_pages(api, f"/v1/{kind}", query, settings.api.token):
            for raw in raw_page:
                yield msgspec.json.decode(raw, type=view)
        return
    if not settings.pg.dsn:
        raise ConfigError("ASSAY_PG_DSN is not set (or give --api URL)")
    store = await Store.connect(settings.pg.dsn)
    try:
        reads = Reads(store.pool)
        pages = _store_images(reads, query) if kind == "images" else _store_findings(reads, query)
        async for page in pages:
            for item in page:
                yield item
    finally:
        await store.close()


async def _run(
    kind: str, settings: Settings, api: str | None, query: Query, *, as_json: bool, out: TextIO
) -> int:
    count = 0
    try:
        async for item in _items(kind, settings, api, query):
            count += 1
            if as_json:
                line = msgspec.json.encode(item).decode("utf-8")
            else:
                line = _image_line(item) if isinstance(item, ImageView) else _finding_line(item)
            print(line, file=out)
    except ParamError as exc:
        print(f"assay {kind}: {exc}", file=sys.stderr)
        return 2
    except AssayError as exc:
        print(f"assay {kind}: error: {exc}", file=sys.stderr)
        return 2
    if not as_json:
        print(f"{count} {kind}", file=out)
    return 0


async def run_images(
    settings: Settings, api: str | None, query: Query, *, as_json: bool = False, out: TextIO | None = None
) -> int:
    """Print the images matching ``query`` (one line each, or JSON lines); returns the exit code."""
    return await _run("images", settings, api, query, as_json=as_json, out=out or sys.stdout)


async def run_findings(
    settings: Settings, api: str | None, query: Query, *, as_json: bool = False, out: TextIO | None = None
) -> int:
    """Print the findings matching ``query``, most severe first; returns the exit code."""
    return await _run("findings", settings, api, query, as_json=as_json, out=out or sys.stdout)
