"""PostgreSQL for tests: the one in ``ASSAY_PG_DSN`` if set, else an embedded server.

Tests get their own database on that server (``fresh_database``) so that they can run
against a shared external PostgreSQL without seeing each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from services.common.embedded import EmbeddedPostgres

__all__ = ["fresh_database", "postgres_server"]


@contextmanager
def postgres_server(data_dir: Path) -> Iterator[str]:
    """A DSN of a running server: ``ASSAY_PG_DSN`` when set, else embedded in ``data_dir``."""
    # Test code may read the environment; services get it through services.common.config.
    external = os.environ.get("ASSAY_PG_DSN", "")
    if external:
        yield external
        return
    with EmbeddedPostgres(data_dir) as server:
        yield server.dsn


@asynccontextmanager
async def fresh_database(server_dsn: str, *, prefix: str = "assay_test") -> AsyncIterator[str]:
    """Create an empty database on the server of ``server_dsn``, yield its DSN, then drop it."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(server_dsn, name)
    finally:
        admin = await asyncpg.connect(server_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def with_database(dsn: str, database: str) -> str:
    """``dsn`` pointing at ``database`` instead (query parameters such as ``host=`` are kept)."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))
