"""``ingest_cvss``: load CVE JSON 5 ratings into an existing advisory database, alone.

The advisory updater calls it after its own run (``assay db update --cvss`` does the same
within one update): it repeats the database's last update with the same advisory sources
and ecosystem selection, which finds them unchanged by fingerprint and reads nothing of
them, plus the CVSS feed; so only the ratings are (re)loaded, atomically as every update.
"""

from __future__ import annotations

from pathlib import Path

from services.common.errors import VulnDBError
from services.vulndb.db import VulnDB
from services.vulndb.feeds import FEED_KINDS
from services.vulndb.ingest import update_db
from services.vulndb.run import Say
from services.vulndb.stats import UpdateStats

__all__ = ["ingest_cvss"]


async def ingest_cvss(source: str, db_path: Path, *, progress: Say | None = None) -> UpdateStats:
    """Load the CVSS ratings of the CVE JSON 5 records at ``source`` (a ``cvelistV5``-style tree,
    a zip of records, or a URL of one) into the database at ``db_path``.

    Raises ``VulnDBError`` when there is no database yet (build it with ``update_db`` first)
    or the source cannot be read; the database then stays as it was.
    """
    with VulnDB.open(db_path) as db:
        advisory_source = db.meta().get("source", "")
        states = [s for s in db.sources() if s.kind not in FEED_KINDS]
    if not advisory_source:
        raise VulnDBError(f"advisory database {db_path} records no source; run `assay db update` first")
    selection = next((s.selection for s in states if s.selection), "*")
    ecosystems = None if selection == "*" else selection.split(",")
    return await update_db(advisory_source, db_path, ecosystems=ecosystems, cvss=source, progress=progress)
