"""Loading the feeds keyed by CVE id as update sources: CISA's KEV catalog, FIRST's EPSS
scores and the CVSS ratings of CVE JSON 5 and NVD API 2.0 records (``cvss_source``, ``cvss_nvd``).

A CVSS location ``nvd+https://services.nvd.nist.gov/rest/json/cves/2.0`` mirrors NVD's CVE API
into ``nvd-mirror/`` beside the database, incrementally (``nvd_api``), and loads the mirror."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from datetime import UTC, datetime
from pathlib import Path

from services.common.errors import VulnDBError
from services.vulndb import cvss_nvd, cvss_source
from services.vulndb import epss as epss_csv
from services.vulndb import kev as kev_json
from services.vulndb.nvd_api import sync_nvd
from services.vulndb.run import UpdateRun, now
from services.vulndb.sources import Fetched, Validators, is_url
from services.vulndb.stats import SourceStats, Tally
from services.vulndb.store import DatabaseWriter, SourceState

FEED_KINDS = ("kev", "epss", "cvss")
NVD_SCHEME = "nvd+"


def _load_kev(writer: DatabaseWriter, path: Path, label: str) -> tuple[int, dict[str, str], list[str]]:
    try:
        catalog = kev_json.parse(path.read_bytes(), label)
    except (OSError, kev_json.KevFormatError) as exc:
        raise VulnDBError(f"cannot read the KEV catalog {label}: {exc}") from exc
    count = writer.replace_feed("kev", catalog.rows)
    meta = {"kev_catalog_version": catalog.version, "kev_date_released": catalog.released}
    return count, meta, catalog.problems


def _load_epss(writer: DatabaseWriter, path: Path, label: str) -> tuple[int, dict[str, str], list[str]]:
    header = epss_csv.Header()
    try:
        count = writer.replace_feed("epss", epss_csv.read(path, header))
    except (OSError, EOFError, gzip.BadGzipFile, epss_csv.EpssFormatError) as exc:
        raise VulnDBError(f"cannot read the EPSS file {label}: {exc}") from exc
    meta = {"epss_model_version": header.model_version, "epss_score_date": header.score_date}
    return count, meta, header.problems


def _load_cvss(writer: DatabaseWriter, path: Path, label: str) -> tuple[int, dict[str, str], list[str]]:
    problems: list[str] = []
    rows = (
        (r.cve, r.provider, r.kind, r.severity, r.score, r.vector)
        for r in cvss_source.read_ratings(path, problems, cvss_nvd.record_ratings)
    )
    count = writer.replace_feed("cve_ratings", rows)
    return count, {"cvss_source": label}, problems


_LOADERS = {"kev": _load_kev, "epss": _load_epss, "cvss": _load_cvss}


async def _mirror_nvd(run: UpdateRun, api: str) -> tuple[Fetched, Path]:
    """Bring ``nvd-mirror/`` beside the database up to date from NVD's API at ``api``."""
    dest = run.db_path.parent / "nvd-mirror"
    session = await run.session()

    async def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
        async with session.get(url, headers=headers) as resp:
            return resp.status, await resp.read()

    run.say(f"CVSS: updating the NVD mirror {dest} from {api}")
    pages = await sync_nvd(dest, fetch, now=datetime.now(UTC), base_url=api, api_key=run.nvd_api_key or None)
    run.say(f"CVSS: {pages} NVD API pages fetched")
    return Fetched(status="ok", validators=Validators()), dest


async def update_feed(run: UpdateRun, kind: str, location: str, tally: Tally) -> SourceStats:
    """Load the KEV catalog, the EPSS scores or the CVE ratings from ``location`` unless unchanged."""
    if kind == "cvss" and location.startswith(NVD_SCHEME):
        got, path = await _mirror_nvd(run, location.removeprefix(NVD_SCHEME))
    else:
        got, path = await run.obtain(location, kind.upper(), kind, "")
    if got.status == "unchanged":
        run.say(f"{kind.upper()}: unchanged")
        return SourceStats(location=location, status="unchanged")
    if got.status == "missing":
        raise VulnDBError(f"the {kind.upper()} source {location} was not found (HTTP 404)")
    writer = await run.open_writer()
    load = _LOADERS[kind]
    try:
        count, meta, problems = await asyncio.to_thread(load, writer, path, location)
    finally:
        if is_url(location):
            with contextlib.suppress(OSError):
                path.unlink()
    for problem in problems:
        tally.error(location, problem)
    run.meta.update(meta)
    # One feed of each kind: a new location replaces the old one.
    for name, state in run.previous.items():
        if state.kind == kind and name != location:
            await asyncio.to_thread(writer.drop_source, name)
    v = got.validators
    state = SourceState(
        name=location,
        kind=kind,
        fingerprint=v.fingerprint(),
        etag=v.etag,
        last_modified=v.last_modified,
        records=count,
        updated_at=now(),
    )
    await asyncio.to_thread(writer.set_source, state)
    run.say(f"{kind.upper()}: {count} entries loaded from {location}")
    return SourceStats(location=location, status="ok", records=count, bytes=got.bytes)
