"""Shared fixtures for the advisory-database tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from services.vulndb import VulnDB, update_db

TESTDATA = Path(__file__).parent / "testdata"
OSV_FIXTURES = TESTDATA / "osv"
VULNDATA = Path("/work/shared/vulndata")


def require_vulndata() -> Path:
    """The shared real OSV dataset; skipped locally when absent, a failure in CI."""
    if (VULNDATA / "Debian" / "all.zip").is_file():
        return VULNDATA
    reason = f"{VULNDATA} (the offline OSV dataset) is not present on this machine"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{reason}; CI must provide it")
    pytest.skip(reason)


@pytest.fixture
def vulndata() -> Path:
    return require_vulndata()


@pytest_asyncio.fixture(scope="session")
async def os_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built once from the real Debian and Alpine exports."""
    src = require_vulndata()
    path = tmp_path_factory.mktemp("vulndb") / "os.sqlite"
    await update_db(str(src), path, ecosystems=["Debian", "Alpine"])
    return path


@pytest.fixture
def os_db(os_db_path: Path) -> Iterator[VulnDB]:
    db = VulnDB.open(os_db_path)
    yield db
    db.close()


@pytest_asyncio.fixture(scope="session")
async def fixture_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built from the small JSON fixture folder."""
    path = tmp_path_factory.mktemp("vulndb") / "fixtures.sqlite"
    await update_db(str(OSV_FIXTURES), path)
    return path


@pytest.fixture
def fixture_db(fixture_db_path: Path) -> Iterator[VulnDB]:
    db = VulnDB.open(fixture_db_path)
    yield db
    db.close()


def debian_changelog_record(tmp: Path, cve: str) -> Path:
    """The real Debian-changelog record of ``cve`` (no severity) as a one-record OSV source folder."""
    import zipfile

    from tests.harness.requirements import require, shared_dir

    vulndata = shared_dir() / "vulndata" / "Debian" / "all.zip"
    require(vulndata.is_file(), f"{vulndata} is missing")
    osv_dir = tmp / "osv"
    osv_dir.mkdir()
    name = f"x_DEBCL-{cve}.json"
    with zipfile.ZipFile(vulndata) as z:
        (osv_dir / name).write_bytes(z.read(name))
    return osv_dir
