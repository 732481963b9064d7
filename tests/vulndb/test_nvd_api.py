"""Incremental mirroring of NVD's CVE API 2.0 (``nvd_api.sync_nvd``) against a local server that
pages real records (testdata/nvd) the way the API does, then loading the folder (``cvss_nvd``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from schemas.records import Distro, PackageRecord
from services.common.errors import VulnDBError
from services.vulndb import VulnDB, update_db
from services.vulndb.cvss_nvd import record_ratings
from services.vulndb.cvss_source import read_ratings
from services.vulndb.matcher import match_packages
from services.vulndb.nvd_api import STATE, Fetch, sync_nvd
from tests.vulndb.conftest import debian_changelog_record

PAGE = Path(__file__).parent / "testdata" / "nvd" / "nvd-cves-page.json"
NOW = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


class FakeNvd:
    """Answers like the CVE API: at most ``cap`` records a page, whatever ``resultsPerPage`` asks."""

    def __init__(self, cap: int = 10) -> None:
        self.records = json.loads(PAGE.read_bytes())["vulnerabilities"]
        self.cap = cap
        self.queries: list[dict[str, str]] = []
        self.status = 200

    async def handle(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query) | {"key": request.headers.get("apiKey", "")})
        if self.status != 200:
            return web.Response(status=self.status, text="Forbidden")
        start = int(request.query.get("startIndex", "0"))
        size = min(int(request.query.get("resultsPerPage", "2000")), self.cap)
        chosen = self.records[start : start + size]
        body: dict[str, Any] = {
            "resultsPerPage": len(chosen),
            "startIndex": start,
            "totalResults": len(self.records),
            "format": "NVD_CVE",
            "version": "2.0",
            "timestamp": "2026-12-07T23:00:00.000",
            "vulnerabilities": chosen,
        }
        return web.json_response(body)


@pytest.fixture
async def server() -> AsyncIterator[tuple[FakeNvd, str, Fetch]]:
    nvd = FakeNvd()
    app = web.Application()
    app.router.add_get("/rest/json/cves/2.0", nvd.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:

        async def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
            async with session.get(url, headers=headers) as resp:
                return resp.status, await resp.read()

        yield nvd, f"http://127.0.0.1:{port}/rest/json/cves/2.0", fetch
    await runner.cleanup()


async def test_the_first_sync_pages_through_everything_and_loads_like_the_page(
    server: tuple[FakeNvd, str, Fetch], tmp_path: Path
) -> None:
    nvd, url, fetch = server
    pages = await sync_nvd(tmp_path, fetch, now=NOW, base_url=url, api_key="k", pause=0)
    assert pages == 4  # 35 records, 10 a page
    assert _names(tmp_path)[0] == STATE
    assert [q["startIndex"] for q in nvd.queries] == ["0", "10", "20", "30"]
    assert all("lastModStartDate" not in q and q["key"] == "k" for q in nvd.queries)
    problems: list[str] = []
    loaded = sorted(
        read_ratings(tmp_path, problems, record_ratings), key=lambda r: (r.cve, r.provider, r.kind)
    )
    assert problems == []  # the state file is not read as a record
    assert loaded == sorted(record_ratings(PAGE.read_bytes()), key=lambda r: (r.cve, r.provider, r.kind))
    assert json.loads((tmp_path / STATE).read_bytes()) == {"last_modified": "2026-12-07T23:00:00Z"}


async def test_the_next_sync_asks_only_for_what_changed_in_ranges_of_120_days(
    server: tuple[FakeNvd, str, Fetch], tmp_path: Path
) -> None:
    nvd, url, fetch = server
    await sync_nvd(tmp_path, fetch, now=NOW, base_url=url, pause=0)
    nvd.queries.clear()
    later = NOW + timedelta(days=200)
    await sync_nvd(tmp_path, fetch, now=later, base_url=url, pause=0)
    ranges = sorted({(q["lastModStartDate"], q["lastModEndDate"]) for q in nvd.queries})
    assert ranges == [
        ("2026-12-07T23:00:00.000Z", "2027-04-06T23:00:00.000Z"),
        ("2027-04-06T23:00:00.000Z", "2027-06-25T23:00:00.000Z"),
    ]
    assert all(q["key"] == "" for q in nvd.queries)  # no API key, no header
    assert json.loads((tmp_path / STATE).read_bytes()) == {"last_modified": "2027-06-25T23:00:00Z"}


async def test_a_refused_request_names_the_url_and_keeps_the_state(
    server: tuple[FakeNvd, str, Fetch], tmp_path: Path
) -> None:
    nvd, url, fetch = server
    await sync_nvd(tmp_path, fetch, now=NOW, base_url=url, pause=0)
    nvd.status = 403
    with pytest.raises(
        VulnDBError,
        match=r"NVD API http://127\.0\.0\.1:\d+/rest/json/cves/2\.0\?lastModStartDate=.* HTTP 403",
    ):
        await sync_nvd(tmp_path, fetch, now=NOW + timedelta(days=1), base_url=url, pause=0)
    assert json.loads((tmp_path / STATE).read_bytes()) == {"last_modified": "2026-12-07T23:00:00Z"}


async def test_an_answer_that_is_not_a_page_is_an_error(tmp_path: Path) -> None:
    async def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
        return 200, b"<html>maintenance</html>"

    with pytest.raises(VulnDBError, match="not a CVE API page"):
        await sync_nvd(tmp_path, fetch, now=NOW, base_url="http://nvd.invalid/cves", pause=0)
    assert not (tmp_path / STATE).exists()


CURL = PackageRecord(
    name="curl",
    version="7.88.1-10+deb12u5",
    type="deb",
    purl="pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12",
    source_name="curl",
)
BOOKWORM = Distro(id="debian", version_id="12", pretty_name="Debian GNU/Linux 12 (bookworm)")


async def test_db_update_with_an_nvd_location_mirrors_the_api_and_rates_the_finding(
    server: tuple[FakeNvd, str, Fetch], tmp_path: Path
) -> None:
    nvd, url, _ = server
    nvd.cap = 1000  # one page: no pause between requests
    db_path = tmp_path / "db" / "vuln.sqlite"
    osv_dir = debian_changelog_record(tmp_path, "CVE-2024-7264")
    await update_db(str(osv_dir), db_path, cvss=f"nvd+{url}")
    with VulnDB.open(db_path) as db:
        (m,) = [m for m in match_packages(db, BOOKWORM, [CURL]).matches if m.vuln_id == "CVE-2024-7264"]
    # CISA's ADP score (as NVD's record copies it) ranks before NVD's own, as in the CVE record
    assert (m.severity, m.cvss_score, m.severity_source) == ("MEDIUM", 6.3, "adp:CISA-ADP/cvss_v3")
    assert (db_path.parent / "nvd-mirror" / STATE).is_file()
    assert "lastModStartDate" not in nvd.queries[0]
    said: list[str] = []
    await update_db(str(osv_dir), db_path, cvss=f"nvd+{url}", nvd_api_key="nvd-key-123", progress=said.append)
    assert "lastModStartDate" in nvd.queries[-1]  # the second update asks only for what changed
    # ASSAY_DB_NVD_API_KEY goes to NVD in its apiKey header, and nowhere else
    assert (nvd.queries[0]["key"], nvd.queries[-1]["key"]) == ("", "nvd-key-123")
    assert said
    assert not any("nvd-key-123" in line for line in said)
