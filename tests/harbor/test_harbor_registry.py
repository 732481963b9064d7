"""The adapter end to end: Harbor's scan request, a real registry with robot-style Basic credentials.

Debian's ``docker-registry`` (htpasswd auth) holds the Debian fixture image, pushed by skopeo;
the adapter runs with the production scanner (``registry_scanner``: ``assay scan``'s path, pulling
only from the registry Harbor names) against real Debian advisories from ../shared/vulndata. The
report Harbor would fetch must validate against the published specification and list exactly the
CVE findings ``assay scan`` reports for the same image read from its OCI layout.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.cli.scan import scan_report
from services.harbor.app import make_app
from services.harbor.jobs import Jobs
from services.harbor.models import REPORT_MIME
from services.harbor.scanner import registry_scanner
from services.harbor.service import adapter_metadata
from services.policy.suppress_accept import Acceptance
from services.settings import load_settings
from tests.harbor.spec import schema_errors
from tests.harness.registry import manifest_descriptor, push_image, registry_server

pytestmark = pytest.mark.realworld


async def _fetch_report(client: TestClient, scan_id: str) -> tuple[int, bytes]:
    for _ in range(600):
        resp = await client.get(f"/api/v1/scan/{scan_id}/report", headers={"Accept": REPORT_MIME})
        if resp.status != 302:
            return resp.status, await resp.read()
        await asyncio.sleep(int(resp.headers["Refresh-After"]) / 50)
    raise AssertionError("no report within the polling budget")


async def test_harbor_scan_of_a_registry_image_matches_assay_scan(
    fixtures: Path, vuln_db: Path, tmp_path: Path
) -> None:
    settings = load_settings({"ASSAY_DB_PATH": str(vuln_db), "ASSAY_DATA_DIR": str(tmp_path / "data")})
    with registry_server(tmp_path / "registry", "basic") as registry:
        push_image(registry, f"oci:{fixtures}/oci/debian:latest", "library/debian:12")
        digest, _, media_type = manifest_descriptor(registry, "library/debian", "12")
        robot = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
        request = {
            "registry": {"url": registry.url, "authorization": f"Basic {robot}"},
            "artifact": {
                "repository": "library/debian",
                "digest": digest,
                "tag": "12",
                "mime_type": media_type,
            },
        }
        app = make_app(Jobs(registry_scanner(settings)), adapter_metadata(settings))
        async with TestClient(TestServer(app)) as client:
            metadata = await (await client.get("/api/v1/metadata")).json(content_type=None)
            assert "harbor.scanner-adapter/vulnerability-database-updated-at" in metadata["properties"]
            accepted = await client.post("/api/v1/scan", json=request)
            assert accepted.status == 202
            status, body = await _fetch_report(client, (await accepted.json(content_type=None))["id"])
    assert status == 200, body
    report = msgspec.json.decode(body)
    assert schema_errors("HarborVulnerabilityReport", report) == []
    assert report["artifact"]["digest"] == digest

    local = await scan_report(settings, f"oci:{fixtures}/oci/debian:latest", Acceptance())
    expected = {
        (f.id, f.package_name, f.installed_version, f.fixed_version)
        for f in local.findings
        if f.category == "CVE" and not f.suppression
    }
    got = {(v["id"], v["package"], v["version"], v.get("fix_version", "")) for v in report["vulnerabilities"]}
    assert expected  # the fixture's curl and openssl are old: there is something to find
    assert got == expected
    assert len(report["vulnerabilities"]) == len(got)  # one item per CVE and package
