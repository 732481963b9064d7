"""update_db from an http(s) URL base, served from 127.0.0.1."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from services.common.errors import VulnDBError
from services.vulndb import VulnDB, update_db
from services.vulndb.sources import DEFAULT_ECOSYSTEMS

OSV_FIXTURES = Path(__file__).parent / "testdata" / "osv"


def _leftovers(directory: Path) -> list[Path]:
    return list(directory.glob(".vulndb-*"))


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A bulk-export tree: Debian/all.zip and "Red Hat"/all.zip (space in the name)."""
    root = tmp_path / "export"
    for folder, src in (("Debian", "debian"), ("Red Hat", "alpine")):
        (root / folder).mkdir(parents=True)
        shutil.make_archive(str(root / folder / "all"), "zip", OSV_FIXTURES / src)
    return root


@pytest_asyncio.fixture
async def server(export: Path) -> AsyncIterator[str]:
    async def broken(_request: web.Request) -> web.Response:
        return web.Response(status=503, text="down for maintenance")

    app = web.Application()
    app.router.add_get("/Broken/all.zip", broken)
    app.router.add_static("/", export)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


async def test_default_list_fetches_present_and_records_404s(server: str, tmp_path: Path) -> None:
    db_path = tmp_path / "db.sqlite"
    lines: list[str] = []
    stats = await update_db(server, db_path, progress=lines.append)
    assert stats.advisories == 3  # 2 Debian records + 1 Alpine record (served as "Red Hat")
    assert stats.missing == [e for e in DEFAULT_ECOSYSTEMS if e not in ("Debian", "Red Hat")]
    assert any("404" in line for line in lines)
    with VulnDB.open(db_path) as db:
        assert {a.id for a in db.advisories_for("Debian:12", "curl")} == {
            "DEBIAN-CVE-2024-2398",
            "x_DEBCL-CVE-2024-2398",
        }
    assert not _leftovers(tmp_path), "temporary download left behind"


async def test_http_error_other_than_404_raises(server: str, tmp_path: Path) -> None:
    with pytest.raises(VulnDBError, match="HTTP 503"):
        await update_db(server, tmp_path / "db.sqlite", ecosystems=["Debian", "Broken"])
    assert not (tmp_path / "db.sqlite").exists()
    assert not (tmp_path / "db.sqlite.tmp").exists()


async def test_connection_refused_raises(tmp_path: Path) -> None:
    with pytest.raises(VulnDBError, match=re.escape("GET http://127.0.0.1:9/Debian/all.zip")):
        await update_db("http://127.0.0.1:9", tmp_path / "db.sqlite", ecosystems=["Debian"])


async def test_real_exports_over_http(vulndata: Path, tmp_path: Path) -> None:
    app = web.Application()
    app.router.add_static("/osv", vulndata)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/osv"
        stats = await update_db(url, tmp_path / "db.sqlite", ecosystems=["Debian", "Alpine", "crates.io"])
    finally:
        await runner.cleanup()
    assert (stats.advisories, stats.missing) == (3807 + 2611, ["crates.io"])
