"""Numbered SQL migrations, applied in order, once, by whichever service starts first.

Each file ``migrations/NNNN_name.sql`` runs in its own transaction together with the row
that records it in ``schema_migrations``. A session-level advisory lock serialises
concurrent starters: the second one waits, then finds nothing left to do.
"""

from __future__ import annotations

import logging
import re
from importlib import resources
from typing import Any

import msgspec

from services.common.errors import StoreError
from services.common.store._errors import translated

__all__ = ["MIGRATION_LOCK_ID", "Migration", "available_migrations", "migrate"]

log = logging.getLogger(__name__)

MIGRATION_LOCK_ID = 0x61737361795F6D67  # "assay_mg": the advisory lock key, shared by every version
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class Migration(msgspec.Struct, frozen=True, kw_only=True):
    """One migration file."""

    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """The migrations shipped with this version, by ascending version number."""
    found: dict[int, Migration] = {}
    for entry in resources.files("services.common.store.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match is None:
            continue
        version = int(match[1])
        if version in found:
            raise StoreError(f"two migrations numbered {version:04d}: {found[version].name}, {match[2]}")
        found[version] = Migration(version=version, name=match[2], sql=entry.read_text("utf-8"))
    return [found[v] for v in sorted(found)]


async def migrate(conn: Any, migrations: list[Migration] | None = None) -> list[int]:
    """Apply the pending migrations on the asyncpg connection ``conn``; the versions applied.

    Safe to call from many processes at once. The connection must not be in a transaction.
    """
    todo = available_migrations() if migrations is None else migrations
    with translated("migrate the database"):
        return await _migrate(conn, todo)


async def _migrate(conn: Any, todo: list[Migration]) -> list[int]:
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        # Created under the lock: concurrent CREATE TABLE IF NOT EXISTS can still collide in pg_type.
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        applied = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        known = {m.version for m in todo}
        if newer := sorted(applied - known):
            log.warning("the database has migrations this version does not know: %s", newer)
        done: list[int] = []
        for migration in todo:
            if migration.version in applied:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
            log.info("applied migration %04d_%s", migration.version, migration.name)
            done.append(migration.version)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
