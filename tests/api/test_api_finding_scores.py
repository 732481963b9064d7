"""A CVE finding's severity source, CVSS vector and EPSS: from the advisory match, through the policy
store (migration 0014), to the read API's JSON and its OpenAPI document."""

from __future__ import annotations

from typing import Any

import msgspec

from schemas.records import VulnMatch
from services.policy.ruleset import DEFAULT_RULESET, cve_finding
from tests.api.seed import IMAGES, Api
from tests.harness.seed import evaluate

A, B, C, D = IMAGES
VECTOR = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"
MATCH = VulnMatch(
    vuln_id="CVE-2024-6119",
    package_name="libssl3",
    package_version="3.0.11-1~deb12u2",
    package_purl="pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64",
    fixed_version="3.0.14-1~deb12u2",
    severity="HIGH",
    cvss_score=5.9,
    cvss_vector=VECTOR,
    severity_source="debian",
    known_exploited=True,
    epss=0.04217,
    fix_state="fixed",
)


async def _finding(api: Api, finding_id: str) -> dict[str, Any]:
    status, body = await api.get(f"/v1/findings/{finding_id}")
    assert status == 200, body
    assert isinstance(body, dict)
    return body


async def test_a_cve_findings_scores_come_back_from_the_api(api: Api) -> None:
    finding = cve_finding(DEFAULT_RULESET, MATCH, digest=B, environment="cluster:prod-us")
    await evaluate(api.store, B, [*api.findings[B], finding], evaluation_id="scores")
    body = await _finding(api, finding.finding_id)
    assert (body["severity"], body["severity_source"]) == ("HIGH", "debian")
    assert (body["cvss_score"], body["cvss_vector"]) == (5.9, VECTOR)
    assert body["epss"] == 0.04217
    assert body["known_exploited"] is True
    status, page = await api.get("/v1/findings", q="CVE-2024-6119")
    assert status == 200
    assert isinstance(page, dict)
    [item] = page["items"]
    assert (item["severity_source"], item["cvss_vector"], item["epss"]) == ("debian", VECTOR, 0.04217)


async def test_new_scores_update_a_finding_without_changing_its_state(api: Api) -> None:
    finding = cve_finding(DEFAULT_RULESET, MATCH, digest=B, environment="cluster:prod-us")
    await evaluate(api.store, B, [*api.findings[B], finding], evaluation_id="first")
    rescored = msgspec.structs.replace(finding, epss=0.5, severity_source="cvss_v3")
    await evaluate(api.store, B, [*api.findings[B], rescored], evaluation_id="second")
    body = await _finding(api, finding.finding_id)
    assert (body["epss"], body["severity_source"]) == (0.5, "cvss_v3")
    assert body["state"] == "new"  # EPSS moves daily: not a lifecycle change


async def test_findings_without_scores_read_as_none(api: Api) -> None:
    body = await _finding(api, "b-000")  # seeded without a vector, source or EPSS
    assert (body["severity_source"], body["cvss_vector"], body["epss"]) == ("", "", 0.0)


async def test_the_openapi_document_lists_the_scores(api: Api) -> None:
    status, document = await api.get("/openapi.json")
    assert status == 200
    assert isinstance(document, dict)
    view = document["components"]["schemas"]["FindingView"]["properties"]
    assert view["epss"]["type"] == "number"
    assert view["cvss_vector"]["type"] == view["severity_source"]["type"] == "string"
