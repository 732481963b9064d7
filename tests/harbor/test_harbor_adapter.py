"""The adapter's routes against Harbor's published specification, with the scan itself injected.

Every response is checked against the specification's media type and component schema
(tests/harbor/testdata, the published v1.1 document). The scan is a stand-in that returns a
report built here, so each status (accepted, still running, done, failed) can be reached on
purpose; the real scan path is tested in test_harbor_registry.py.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer

from schemas.records import Finding, ImageInfo, VulnMatch
from services.common.errors import ImageError
from services.harbor.app import make_app
from services.harbor.jobs import Jobs
from services.harbor.models import RAW_REPORT_MIME, REPORT_MIME, ScanRequest
from services.harbor.scanner import RequestError, pull_target
from services.harbor.service import adapter_metadata
from services.policy.report import Report
from services.settings import load_settings
from tests.harbor.spec import response_mime, schema_errors

DIGEST = "sha256:" + "ab" * 32
ROBOT = "Basic " + base64.b64encode(b"robot$assay:s3cret").decode()


def _request(**artifact: str) -> dict[str, object]:
    return {
        "registry": {"url": "https://harbor.example.com", "authorization": ROBOT},
        "artifact": {
            "repository": "library/app",
            "digest": DIGEST,
            "mime_type": "application/vnd.oci.image.manifest.v1+json",
            **artifact,
        },
    }


def _report() -> Report:
    purl = "pkg:deb/debian/curl@7.88.1-10?distro=debian-12"
    finding = Finding(
        finding_id="f1", category="CVE", id="CVE-2023-38545", severity="CRITICAL", title="CVE-2023-38545",
        description="SOCKS5 heap buffer overflow", package_name="curl", purl=purl,
        installed_version="7.88.1-10", fixed_version="7.88.1-10+deb12u4",
    )  # fmt: skip
    suppressed = msgspec.structs.replace(finding, finding_id="f2", id="CVE-2023-0001", suppression="accepted")
    match = VulnMatch(
        vuln_id="CVE-2023-38545", package_name="curl", package_version="7.88.1-10", package_purl=purl,
        cvss_score=9.8, cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        references=["https://security-tracker.debian.org/tracker/CVE-2023-38545", "not a link"],
    )  # fmt: skip
    return Report(
        image=ImageInfo(ref="harbor.example.com/library/app@" + DIGEST, digest=DIGEST),
        packages=[],
        findings=[finding, suppressed],
        counts={"CRITICAL": 1},
        matches=[match],
        generated_at="2026-12-07T10:00:00Z",
    )


class Gate:
    """A scan that waits until released, then returns the report or raises."""

    def __init__(self, error: Exception | None = None) -> None:
        self.release = asyncio.Event()
        self.error = error
        self.seen: list[ScanRequest] = []

    async def __call__(self, request: ScanRequest) -> Report:
        self.seen.append(request)
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return _report()


async def _client(gate: Gate, api_key: str = "") -> TestClient:
    metadata = adapter_metadata(load_settings({"ASSAY_DB_PATH": "/nonexistent/assay.sqlite"}))
    client = TestClient(TestServer(make_app(Jobs(gate), metadata, api_key=api_key)))
    await client.start_server()
    return client


@pytest.fixture
async def gate() -> Gate:
    return Gate()


@pytest.fixture
async def client(gate: Gate) -> AsyncIterator[TestClient]:
    c = await _client(gate)
    yield c
    gate.release.set()
    await c.close()


async def _wait_done(client: TestClient, scan_id: str, accept: str = REPORT_MIME) -> tuple[int, bytes, str]:
    for _ in range(200):
        resp = await client.get(f"/api/v1/scan/{scan_id}/report", headers={"Accept": accept})
        body = await resp.read()
        if resp.status != 302:
            return resp.status, body, resp.headers.get("Content-Type", "")
        await asyncio.sleep(0.01)
    raise AssertionError("the report never finished")


async def test_metadata_is_a_valid_scanner_adapter_metadata(client: TestClient) -> None:
    resp = await client.get("/api/v1/metadata")
    assert resp.status == 200
    assert resp.headers["Content-Type"] in response_mime("/metadata", "get", 200)
    body = await resp.json(content_type=None)
    assert schema_errors("ScannerAdapterMetadata", body) == []
    assert body["scanner"]["name"] == "Assay"
    assert REPORT_MIME in body["capabilities"][0]["produces_mime_types"]


async def test_scan_is_accepted_then_pending_then_a_valid_report(client: TestClient, gate: Gate) -> None:
    resp = await client.post("/api/v1/scan", json=_request())
    assert resp.status == 202
    assert resp.headers["Content-Type"] in response_mime("/scan", "post", 202)
    accepted = await resp.json(content_type=None)
    assert schema_errors("ScanResponse", accepted) == []
    pending = await client.get(f"/api/v1/scan/{accepted['id']}/report")
    assert pending.status == 302
    assert int(pending.headers["Refresh-After"]) > 0
    gate.release.set()
    status, body, mime = await _wait_done(client, accepted["id"])
    assert status == 200
    assert mime in response_mime("/scan/{scan_request_id}/report", "get", 200)
    report = msgspec.json.decode(body)
    assert schema_errors("HarborVulnerabilityReport", report) == []
    assert report["severity"] == "Critical"
    assert report["artifact"]["digest"] == DIGEST
    # the suppressed finding stays out; the match's CVSS 3 vector and web links come along
    assert [(v["id"], v["package"], v["fix_version"]) for v in report["vulnerabilities"]] == [
        ("CVE-2023-38545", "curl", "7.88.1-10+deb12u4")
    ]
    item = report["vulnerabilities"][0]
    assert item["cve3_score"] == "9.8"
    assert item["cvss3_vector"].startswith("CVSS:3.1/")
    assert item["links"] == ["https://security-tracker.debian.org/tracker/CVE-2023-38545"]
    assert gate.seen[0].registry.authorization == ROBOT


async def test_the_raw_report_is_assay_s_json_report(client: TestClient, gate: Gate) -> None:
    gate.release.set()
    accepted = await (await client.post("/api/v1/scan", json=_request())).json(content_type=None)
    status, body, mime = await _wait_done(client, accepted["id"], RAW_REPORT_MIME)
    assert (status, mime) == (200, RAW_REPORT_MIME)
    assert msgspec.json.decode(body)["findings"][0]["id"] == "CVE-2023-38545"


async def test_a_failed_scan_answers_500_with_its_error(gate: Gate) -> None:
    failing = Gate(ImageError("harbor.example.com/library/app@sha256:abab…: layer 2: truncated gzip stream"))
    failing.release.set()
    c = await _client(failing)
    try:
        accepted = await (await c.post("/api/v1/scan", json=_request())).json(content_type=None)
        status, body, mime = await _wait_done(c, accepted["id"])
        assert status == 500
        assert mime in response_mime("/scan/{scan_request_id}/report", "get", 500)
        error = msgspec.json.decode(body)
        assert schema_errors("ErrorResponse", error) == []
        assert "truncated gzip stream" in error["error"]["message"]
    finally:
        await c.close()


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        (b"{not json", 400, "JSON"),
        (b'{"registry": 1, "artifact": {}}', 400, "registry"),
        (msgspec.json.encode(_request(digest="sha256:short")), 422, "artifact.digest"),
        (msgspec.json.encode(_request(repository="Library/App")), 422, "artifact.repository"),
        (
            msgspec.json.encode(_request(mime_type="application/vnd.cncf.helm.config.v1+json")),
            422,
            "mime_type",
        ),
    ],
    ids=["not-json", "wrong-type", "bad-digest", "bad-repository", "helm-chart"],
)
async def test_bad_requests_are_refused_naming_the_field(
    client: TestClient, gate: Gate, body: bytes, status: int, names: str
) -> None:
    resp = await client.post("/api/v1/scan", data=body)
    assert resp.status == status
    error = await resp.json(content_type=None)
    assert schema_errors("ErrorResponse", error) == []
    assert names in error["error"]["message"]
    assert gate.seen == []  # nothing was scanned


async def test_unknown_scan_ids_answer_404(client: TestClient) -> None:
    assert (await client.get("/api/v1/scan/0123/report")).status == 404


async def test_an_api_key_guards_every_route() -> None:
    gate = Gate()
    c = await _client(gate, api_key="k-123")
    try:
        assert (await c.get("/api/v1/metadata")).status == 401
        assert (await c.get("/api/v1/metadata", headers={"Authorization": "Bearer wrong"})).status == 401
        assert (await c.post("/api/v1/scan", json=_request())).status == 401
        assert (await c.get("/api/v1/metadata", headers={"Authorization": "Bearer k-123"})).status == 200
        ok = await c.get("/api/v1/metadata", headers={"X-ScannerAdapter-API-Key": "k-123"})
        assert ok.status == 200
    finally:
        gate.release.set()
        await c.close()


def test_robot_credentials_go_only_to_harbor_s_own_registry() -> None:
    target, registry = pull_target(msgspec.convert(_request(), ScanRequest))
    assert target == f"harbor.example.com/library/app@{DIGEST}"
    assert (registry.host, registry.username, registry.password) == (
        "harbor.example.com",
        "robot$assay",
        "s3cret",
    )
    assert registry.insecure is False
    plain = _request()
    plain["registry"] = {"url": "http://127.0.0.1:5000", "authorization": ""}
    target, registry = pull_target(msgspec.convert(plain, ScanRequest))
    assert (registry.host, registry.insecure, registry.username) == ("127.0.0.1:5000", True, "")
    bearer = _request()
    bearer["registry"] = {"url": "https://harbor.example.com", "authorization": "Bearer eyJ..."}
    with pytest.raises(RequestError, match=r"registry\.authorization"):
        pull_target(msgspec.convert(bearer, ScanRequest))


async def test_finished_reports_expire_and_running_scans_are_bounded() -> None:
    now = [0.0]
    gate = Gate()
    jobs = Jobs(gate, max_jobs=2, ttl_s=60, clock=lambda: now[0])
    request = msgspec.convert(_request(), ScanRequest)
    first, second = jobs.submit(request), jobs.submit(request)
    with pytest.raises(RuntimeError, match="already accepted"):
        jobs.submit(request)  # both slots hold running scans: refused, not queued without bound
    gate.release.set()
    for _ in range(100):
        if first.status == second.status == "done":
            break
        await asyncio.sleep(0.01)
    third = jobs.submit(request)  # a finished job makes room
    assert jobs.get(first.id) is None
    assert jobs.get(second.id) is second
    now[0] = 61.0
    assert jobs.get(second.id) is None  # fetched or not, a finished report expires
    await jobs.aclose()
    assert third.task is not None
    assert third.task.done()
