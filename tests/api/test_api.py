"""The read API over HTTP: filters, keyset pagination, 404s, 400s, responses matching the OpenAPI document."""

from __future__ import annotations

import io
import json
from typing import Any

import msgspec
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from schemas import Finding
from schemas.vocabulary import severity_rank
from services.api.client import run_findings, run_images
from services.api.settings import ApiSettings
from services.common.config import PgSettings
from services.settings import Settings
from tests.api.seed import IMAGES, Api
from tests.harness.seed import evaluate

A, B, C, D = IMAGES


def _all(api: Api) -> list[tuple[str, Finding]]:
    return [(digest, f) for digest, items in api.findings.items() for f in items]


def _envs(digest: str) -> set[str]:
    return {env for env, _, _ in IMAGES[digest][2]}


async def _walk(api: Api, path: str, **params: str | list[str]) -> tuple[list[dict[str, Any]], int]:
    """Every item across pages, following ``next``; and the number of pages."""
    status, body = await api.get(path, **params)
    assert status == 200, body
    items, pages = [], 1
    while True:
        assert isinstance(body, dict)
        items += body["items"]
        if body["next"] is None:
            return items, pages
        assert body["next"].startswith(path + "?")
        async with api.http.get(api.url + body["next"]) as response:
            assert response.status == 200
            body = await response.json()
        pages += 1


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["finding_id"] for i in items]


async def test_findings_paginate_without_duplicates_or_gaps(api: Api) -> None:
    items, pages = await _walk(api, "/v1/findings", limit="7")
    expected = {f.finding_id for _, f in _all(api)}
    assert len(_ids(items)) == len(set(_ids(items))) == len(expected)
    assert set(_ids(items)) == expected
    assert pages == -(-len(expected) // 7)
    ranks = [(severity_rank(i["severity"]), i["finding_id"]) for i in items]
    assert ranks == sorted(ranks)  # most severe first, then by id: a stable total order


async def test_pages_of_one_equal_one_page_of_all(api: Api) -> None:
    one_by_one, pages = await _walk(api, "/v1/findings", limit="1", severity="high")
    status, body = await api.get("/v1/findings", limit="1000", severity="high")
    assert status == 200
    assert isinstance(body, dict)
    assert _ids(one_by_one) == _ids(body["items"])
    assert pages == len(body["items"]) > 1


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"environment": "cluster:prod-eu"}, lambda d, f: "cluster:prod-eu" in _envs(d)),
        ({"environment": "registry:127.0.0.1:5000"}, lambda d, f: "registry:127.0.0.1:5000" in _envs(d)),
        ({"environment": ["cluster:prod-us", "cluster:dev"]}, lambda d, f: d == B),
        ({"ou": "payments"}, lambda d, f: d in (A, B)),
        ({"ou": "platform"}, lambda d, f: d == A),
        ({"ou": "dev"}, lambda d, f: False),
        ({"ou": "cluster:prod-"}, lambda d, f: False),  # the OU is a column now, not a name prefix
        ({"severity": "high"}, lambda d, f: severity_rank(f.severity) <= 1),
        ({"severity": "LOW"}, lambda d, f: severity_rank(f.severity) <= 3),
        ({"ruleset": "strict"}, lambda d, f: f.ruleset == "strict"),
        (
            {"category": "InsecureContent,ImageScan"},
            lambda d, f: f.category in ("InsecureContent", "ImageScan"),
        ),
        ({"digest": D}, lambda d, f: d == D),
        ({"package": "lib3"}, lambda d, f: f.package_name == "lib3"),
        ({"package": "pkg:deb/debian/openssl"}, lambda d, f: f.package_name == "openssl"),
        ({"package": "pkg:deb/debian/lib1@1.6"}, lambda d, f: f.purl == "pkg:deb/debian/lib1@1.6"),
        ({"package": "pkg:deb/debian/lib"}, lambda d, f: False),  # a purl prefix is not a package
        ({"q": "OPENSSL"}, lambda d, f: "openssl" in f.title.lower() or f.package_name == "openssl"),
        ({"q": "100%"}, lambda d, f: "100%" in f.title),  # LIKE metacharacters are literal
        ({"q": "lib2_"}, lambda d, f: "lib2_" in f.title),
        ({"q": "cve-2024-101"}, lambda d, f: f.id.startswith("CVE-2024-101")),
        (
            {"severity": "critical", "environment": "cluster:prod-eu", "ruleset": "strict"},
            lambda d, f: d == A and f.severity == "CRITICAL" and f.ruleset == "strict",
        ),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else "",
)
async def test_finding_filters(api: Api, params: dict[str, Any], keep: Any) -> None:
    items, _ = await _walk(api, "/v1/findings", limit="5", **params)
    expected = sorted(f.finding_id for d, f in _all(api) if keep(d, f))
    assert sorted(_ids(items)) == expected
    for item in items:
        assert set(item["environments"]) == _envs(item["digest"])


async def test_finding_by_id_carries_image_and_lifecycle(api: Api) -> None:
    status, body = await api.get("/v1/findings/b-000")
    assert status == 200
    assert isinstance(body, dict)
    assert body["digest"] == B
    assert body["severity"] == "CRITICAL"
    assert body["state"] == "new"
    assert body["image_ref"] == f"127.0.0.1:5000/team/db@{B}"
    assert body["environments"] == ["cluster:prod-us"]
    assert body["first_seen"]
    changed = msgspec.structs.replace(api.findings[B][0], fixed_version="3.0.12")
    await evaluate(api.store, B, [changed, *api.findings[B][1:]], evaluation_id="fix")
    status, body = await api.get("/v1/findings/b-000")
    assert status == 200
    assert isinstance(body, dict)
    assert (body["state"], body["fixed_version"]) == ("changed", "3.0.12")
    items, _ = await _walk(api, "/v1/findings", state="changed")
    assert _ids(items) == ["b-000"]


async def test_images_with_status_environments_and_counts(api: Api) -> None:
    items, pages = await _walk(api, "/v1/images", limit="1")
    assert [i["digest"] for i in items] == sorted(IMAGES)
    assert pages == len(IMAGES)
    by_digest = {i["digest"]: i for i in items}
    for digest, (status, error, locations) in IMAGES.items():
        image = by_digest[digest]
        assert (image["status"], image["error"]) == (status, error)
        assert image["environments"] == sorted({env for env, _, _ in locations})
        assert [(x["environment"], x["repository"], x["tag"]) for x in image["locations"]] == sorted(
            locations
        )
        counts: dict[str, int] = {}
        for f in api.findings.get(digest, []):
            counts[f.severity.upper()] = counts.get(f.severity.upper(), 0) + 1
        assert image["finding_counts"] == counts


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "scanned"}, [A, D]),
        ({"status": ["failed", "pending"]}, [B, C]),
        ({"environment": "cluster:dev"}, [C]),
        ({"ou": "payments"}, [A, B]),
        ({"ou": ["platform", "dev"]}, [A, C]),
        ({"ou": "cluster:prod"}, []),
        ({"repository": "team/app"}, [A, C]),
        ({"repository": "team/app", "status": "scanned"}, [A]),
    ],
)
async def test_image_filters(api: Api, params: dict[str, Any], expected: list[str]) -> None:
    items, _ = await _walk(api, "/v1/images", **params)
    assert [i["digest"] for i in items] == expected


async def test_image_by_digest(api: Api) -> None:
    status, body = await api.get(f"/v1/images/{A}")
    assert status == 200
    assert isinstance(body, dict)
    assert body["digest"] == A
    assert body["scan_id"] == f"scan-{A[7:15]}"
    assert body["scanned_at"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/v1/images/sha256:" + "0" * 64, "no image with digest"),
        ("/v1/findings/no-such-finding", "no finding with id 'no-such-finding'"),
        ("/v1/nothing", "Not Found"),
    ],
)
async def test_missing_resources_are_404_problems(api: Api, path: str, message: str) -> None:
    status, body = await api.get(path)
    assert status == 404
    assert isinstance(body, dict)
    assert body["status"] == 404
    assert message in body["error"]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/v1/findings", {"severity": "severe"}, "parameter 'severity': unknown severity 'severe'"),
        ("/v1/findings", {"severity": ["high", "low"]}, "parameter 'severity' given 2 times"),
        ("/v1/findings", {"limit": "0"}, "parameter 'limit' must be between 1 and 1000, not 0"),
        ("/v1/findings", {"limit": "ten"}, "parameter 'limit' must be an integer"),
        ("/v1/findings", {"sevrity": "high"}, "unknown parameter 'sevrity'"),
        ("/v1/findings", {"cursor": "not-a-cursor"}, "parameter 'cursor' is not a cursor"),
        ("/v1/images", {"cursor": "WzEsImEiXQ"}, "parameter 'cursor' is not a cursor"),  # a findings cursor
        ("/v1/images", {"status": "done"}, "parameter 'status': unknown status 'done'"),
        ("/v1/images", {"severity": "high"}, "unknown parameter 'severity'"),
    ],
)
async def test_bad_parameters_are_400_with_a_message(
    api: Api, path: str, params: dict[str, Any], message: str
) -> None:
    status, body = await api.get(path, **params)
    assert status == 400
    assert isinstance(body, dict)
    assert body["status"] == 400
    assert message in body["error"], body["error"]


async def test_health(api: Api) -> None:
    assert await api.get("/healthz") == (200, {"status": "ok", "database": ""})


def _validator(document: dict[str, Any], path: str, status: int) -> Draft202012Validator:
    """A validator for the response schema the document declares for GET ``path`` with ``status``."""
    schema = document["paths"][path]["get"]["responses"][str(status)]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]})


async def test_openapi_document_is_valid_and_responses_match_it(api: Api) -> None:
    status, document = await api.get("/openapi.json")
    assert status == 200
    assert isinstance(document, dict)
    assert document["openapi"] == "3.1.0"
    validate_openapi(document)  # raises on an invalid OpenAPI 3.1 document
    checks = [
        ("/v1/images", "/v1/images", {"limit": "2"}, 200),
        ("/v1/images/{digest}", f"/v1/images/{B}", {}, 200),
        ("/v1/images/{digest}", "/v1/images/sha256:none", {}, 404),
        ("/v1/findings", "/v1/findings", {"limit": "3", "ou": "payments"}, 200),
        ("/v1/findings", "/v1/findings", {"limit": "-1"}, 400),
        ("/v1/findings/{finding_id}", "/v1/findings/a-007", {}, 200),
        ("/v1/findings/{finding_id}", "/v1/findings/zzz", {}, 404),
        ("/healthz", "/healthz", {}, 200),
    ]
    for template, path, params, expected_status in checks:
        got_status, body = await api.get(path, **params)
        assert got_status == expected_status, (path, body)
        errors = [e.message for e in _validator(document, template, got_status).iter_errors(body)]
        assert errors == [], (path, errors)
    # the schema is not vacuous: a finding without its id does not validate
    status, body = await api.get("/v1/findings/a-001")
    assert isinstance(body, dict)
    assert not _validator(document, "/v1/findings/{finding_id}", 200).is_valid(
        {k: v for k, v in body.items() if k != "finding_id"}
    )
    filters = {p["name"] for p in document["paths"]["/v1/findings"]["get"]["parameters"]}
    assert filters >= {
        "environment",
        "ou",
        "severity",
        "ruleset",
        "category",
        "digest",
        "package",
        "q",
        "cursor",
    }


async def test_cli_reads_the_api_and_postgres_alike(
    api: Api, pg_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    query = {"severity": ["high"], "ou": ["payments"]}
    via_api, via_pg = io.StringIO(), io.StringIO()
    reader = Settings(api=ApiSettings(token=api.tokens["viewer"]))  # ASSAY_API_TOKEN
    assert await run_findings(Settings(), api.url, query, out=io.StringIO()) == 2  # no token: 401
    assert "HTTP 401" in capsys.readouterr().err
    assert await run_findings(reader, api.url, query, out=via_api) == 0
    assert await run_findings(Settings(pg=PgSettings(dsn=pg_dsn)), None, query, out=via_pg) == 0
    lines = via_api.getvalue().splitlines()
    expected = [f for d, f in _all(api) if d in (A, B) and severity_rank(f.severity) <= 1]
    assert lines[-1] == f"{len(expected)} findings"
    assert via_api.getvalue() == via_pg.getvalue()
    assert lines[0].startswith("CRITICAL")

    as_json = io.StringIO()
    assert await run_images(reader, api.url, {"status": ["scanned"]}, as_json=True, out=as_json) == 0
    assert [json.loads(line)["digest"] for line in as_json.getvalue().splitlines()] == [A, D]

    assert await run_findings(reader, api.url, {"severity": ["bad"]}, out=io.StringIO()) == 2
    assert "unknown severity 'bad'" in capsys.readouterr().err
    assert await run_images(Settings(), "http://127.0.0.1:9", {}, out=io.StringIO()) == 2
    assert "cannot reach the read API at http://127.0.0.1:9" in capsys.readouterr().err


async def test_resolved_findings_are_listed_only_when_asked_for(api: Api) -> None:
    before, _ = await _walk(api, "/v1/findings")
    await api.store.pool.execute("UPDATE findings SET state = 'resolved' WHERE finding_id = 'b-000'")
    try:
        current, _ = await _walk(api, "/v1/findings")
        resolved, _ = await _walk(api, "/v1/findings", state="resolved")
        assert set(_ids(before)) - set(_ids(current)) == {"b-000"}
        assert _ids(resolved) == ["b-000"]
    finally:
        await api.store.pool.execute("UPDATE findings SET state = 'new' WHERE finding_id = 'b-000'")


async def test_a_content_finding_shows_its_file_and_redacted_evidence(api: Api) -> None:
    await api.store.pool.execute(
        "UPDATE findings SET category = 'InsecureContent', path = '/srv/deploy.sh', "
        "evidence = 'line 2: ghp_…1fede932', suppression = 'test fixture', policy_rule = 'fixtures' "
        "WHERE finding_id = 'b-000'"
    )
    status, body = await api.get("/v1/findings/b-000")
    assert status == 200
    assert isinstance(body, dict)
    assert (body["category"], body["path"], body["evidence"]) == (
        "InsecureContent",
        "/srv/deploy.sh",
        "line 2: ghp_…1fede932",
    )
    assert (body["suppression"], body["policy_rule"]) == ("test fixture", "fixtures")
    items, _ = await _walk(api, "/v1/findings", category="InsecureContent")
    assert ("b-000", "/srv/deploy.sh") in [(i["finding_id"], i["path"]) for i in items]
