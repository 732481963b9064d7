"""``assay db update|status``: the local advisory database.

``update`` ingests the OSV exports (incrementally: unchanged sources are not downloaded
again), and optionally CISA's KEV catalog, FIRST's EPSS scores and the CVSS ratings of CVE
JSON 5 records (``--cvss``, for findings whose advisories carry no severity); progress goes to
stderr (live, with ``rich``, on a terminal; otherwise only the lasting step lines:
``services/common/progress.py``) and the final statistics, as JSON, to stdout. ``status``
prints what the database holds.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

import msgspec

from services.common.errors import VulnDBError
from services.common.progress import Progress
from services.vulndb import kev
from services.vulndb.db import VulnDB
from services.vulndb.feeds import FEED_KINDS
from services.vulndb.ingest import update_db
from services.vulndb.sources import is_url

if TYPE_CHECKING:
    from services.settings import Settings


def parse_ecosystems(values: Sequence[str] | None) -> list[str] | None:
    """``--ecosystems`` values (repeatable, comma-separated; names may contain spaces)."""
    if not values:
        return None
    names = [name.strip() for value in values for name in value.split(",")]
    return [n for n in names if n] or None


def kev_location(source: str, kev_arg: str | None) -> str | None:
    """The KEV catalog to load: ``--kev`` (``none`` disables), else CISA's published catalog
    when the advisories come from a URL (an update that goes online anyway). An offline
    build from a local source stays offline and keeps whatever KEV data it had."""
    if kev_arg is not None:
        return None if kev_arg.lower() == "none" else kev_arg
    return kev.DEFAULT_URL if is_url(source) else None


async def run_update(
    settings: Settings,
    source: str | None,
    *,
    ecosystems: Sequence[str] | None = None,
    kev_source: str | None = None,
    epss_source: str | None = None,
    cvss_source: str | None = None,
    full: bool = False,
    stderr: TextIO | None = None,
    live: bool = False,
) -> int:
    """Ingest OSV records from ``source`` (or the configured default) into the local database;
    ``live``: draw progress on ``stderr`` (the entrypoint's ``wants_progress``)."""
    src = source or settings.db.source
    path = settings.effective_db_path
    with Progress(stderr or sys.stderr, live=live) as out:
        try:
            stats = await update_db(
                src,
                path,
                ecosystems=parse_ecosystems(ecosystems),
                kev=kev_location(src, kev_source),
                epss=epss_source,
                cvss=cvss_source,
                full=full,
                progress=out.line,
                status=out.status,
                nvd_api_key=settings.db.nvd_api_key,
            )
        except VulnDBError as exc:
            out.line(f"assay: error: {exc}")
            return 2
    print(msgspec.json.encode(stats).decode())
    return 0


def status_text(db: VulnDB) -> str:
    """What ``assay db status`` prints: metadata, then one line per source."""
    meta = db.meta()
    lines = [f"database:       {db.path}"]
    for key, label in (
        ("schema_version", "schema version"),
        ("built_at", "built at"),
        ("source", "source"),
        ("advisories", "advisories"),
        ("affected", "affected pkgs"),
        ("kev", "known exploited"),
        ("kev_catalog_version", "KEV catalog"),
        ("epss", "EPSS scores"),
        ("epss_score_date", "EPSS date"),
        ("cvss", "CVE ratings"),
    ):
        if meta.get(key):
            lines.append(f"{label + ':':<16}{meta[key]}")
    lines.append("sources:")
    for s in db.sources():
        version = f"etag {s.etag}" if s.etag else s.last_modified or s.fingerprint
        what = f"{s.advisories} advisories" if s.kind not in FEED_KINDS else f"{s.records} entries"
        lines.append(
            f"  {s.ecosystem or s.kind:<12} {s.status:<8} {what:<20} updated {s.updated_at}  "
            f"{s.name}  [{version}]"
        )
    return "\n".join(lines)


def run_status(settings: Settings, *, as_json: bool = False) -> int:
    """Print the database's metadata: build time, sources with their versions, counts, schema version."""
    try:
        db = VulnDB.open(settings.effective_db_path)
    except VulnDBError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return 2
    try:
        if as_json:
            doc = {"meta": db.meta(), "sources": db.sources()}
            print(msgspec.json.format(msgspec.json.encode(doc).decode(), indent=2))
        else:
            print(status_text(db))
    except VulnDBError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0
