"""Session-wide fixtures: real PostgreSQL, a real broker, the built images, the advisory data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.vulndb.ingest import update_db
from tests.harness.broker import kafka_bootstrap
from tests.harness.postgres import fresh_database, postgres_server
from tests.harness.requirements import fixtures_dir, require, shared_dir


@pytest.fixture(scope="session")
def pg_server_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the session (``ASSAY_PG_DSN`` or embedded)."""
    with postgres_server(tmp_path_factory.mktemp("pg") / "data") as dsn:
        yield dsn


@pytest.fixture
async def pg_dsn(pg_server_dsn: str) -> AsyncIterator[str]:
    """An empty database of its own for one test."""
    async with fresh_database(pg_server_dsn) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def kafka_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker for the session (``ASSAY_KAFKA_BOOTSTRAP`` or embedded Tansu)."""
    with kafka_bootstrap(tmp_path_factory.mktemp("broker")) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """The real images built by tests/fixtures/build-images.sh."""
    path = fixtures_dir()
    require(
        (path / "manifest.json").is_file(), f"no fixture images in {path}: run tests/fixtures/build-images.sh"
    )
    return path


@pytest.fixture(scope="session")
def vulndata() -> Path:
    """Real OSV advisories from ../shared/vulndata."""
    path = shared_dir() / "vulndata"
    require((path / "Debian" / "all.zip").is_file(), f"no advisory data at {path} (../shared is absent)")
    return path


@pytest.fixture(scope="session")
def vuln_db(vulndata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An advisory database built once from the OS ecosystems of ../shared/vulndata."""
    path = tmp_path_factory.mktemp("vulndb") / "vuln.db"
    asyncio.run(update_db(str(vulndata), path, ecosystems=["Debian", "Alpine"]))
    return path
