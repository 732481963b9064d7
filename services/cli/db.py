"""``assay db update|status``: the local advisory database."""

from __future__ import annotations

import sys

import msgspec

from services.common.config import Settings
from services.common.errors import VulnDBError
from services.vulndb.db import VulnDB
from services.vulndb.ingest import update_db


async def run_update(settings: Settings, source: str | None) -> int:
    """Ingest OSV records from ``source`` (or the configured default) into the local database."""
    src = source or settings.db_source
    path = settings.effective_db_path
    path.parent.mkdir(parents=True, exist_ok=True)

    def progress(message: str) -> None:
        print(message, file=sys.stderr)

    try:
        stats = await update_db(src, path, progress=progress)
    except VulnDBError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return 2
    print(msgspec.json.encode(stats).decode())
    return 0


def run_status(settings: Settings) -> int:
    """Print the database's metadata: build time, sources, schema version."""
    try:
        db = VulnDB.open(settings.effective_db_path)
    except VulnDBError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return 2
    try:
        print(msgspec.json.format(msgspec.json.encode(db.meta()).decode(), indent=2))
    finally:
        db.close()
    return 0
