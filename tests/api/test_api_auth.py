"""Authentication and roles on the API: 401 without credentials, 403 for the wrong role, tokens
stored hashed and revocable, OIDC ID tokens verified against the issuer's JWKS, rate limits with
Retry-After, the audit log of every change, and Request Rescan."""

from __future__ import annotations

import re

import aiohttp
import pytest
from aiohttp import web

from schemas.codec import decode_event
from schemas.events import ScanRequested
from schemas.topics import Topics
from services.api.app import make_app
from services.api.auth.access import Access
from services.api.auth.roles import PUBLIC, required_role
from services.api.auth.tokens import Tokens
from services.api.notes import FARGATE_NOTE
from services.api.openapi import openapi_document
from services.api.settings import AuthConfig
from services.api.store import Reads
from services.dedupe.store.claims import Claims, Sighting
from tests.api.fake_oidc import FakeIssuer, new_key
from tests.api.seed import IMAGES, Api, serve

A, B, C, D = IMAGES
FILL = {"digest": A, "finding_id": "a-001", "registry": "reg.example.com", "cluster": "prod-eu"}


def _routes(api_app: web.Application) -> list[tuple[str, str]]:
    """Every (method, canonical path) the app serves, but HEAD and the public ones."""
    out = []
    for route in api_app.router.routes():
        resource = route.resource
        if resource is None or route.method == "HEAD" or resource.canonical in PUBLIC:
            continue
        out.append((route.method, resource.canonical))
    return sorted(set(out))


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: FILL.get(m[1], "x"), path)


async def test_every_route_but_the_public_ones_answers_401_without_credentials(api: Api) -> None:
    routes = _routes(make_app(Reads(api.store.pool), Access(AuthConfig(), api.store.pool)))
    assert ("POST", "/v1/images/{digest}/rescan") in routes
    assert ("GET", "/v1/audit") in routes
    for method, path in routes:
        status, body, _ = await api.call(method, _url(path), role=None)
        if path.startswith("/console") and method == "GET":
            assert status == 303, (method, path)  # the console sends the browser to its login page
        else:
            assert status == 401, (method, path, body)
    status, _, _ = await api.call("GET", "/healthz", role=None)
    assert status == 200


@pytest.mark.parametrize("role", ["viewer", "operator"])
async def test_a_role_below_the_route_s_gets_403(api: Api, role: str) -> None:
    routes = _routes(make_app(Reads(api.store.pool), Access(AuthConfig(), api.store.pool)))
    refused = [(m, p) for m, p in routes if required_role(m, p) != "viewer" and not _allows(role, m, p)]
    assert refused  # operator: the admin routes; viewer: every change
    for method, path in refused:
        status, body, _ = await api.call(method, _url(path), role=role)
        assert status == 403, (method, path, body)
        assert isinstance(body, dict)
        assert f"has role {role}" in body["error"]


def _allows(role: str, method: str, path: str) -> bool:
    order = ["viewer", "operator", "admin"]
    return order.index(role) >= order.index(required_role(method, path))


async def test_tokens_are_stored_hashed_checked_and_revocable(api: Api) -> None:
    tokens = Tokens(api.store.pool)
    token, info = await tokens.create("ci-reader", "viewer")
    assert token.startswith(f"assay_{info.token_id}_")
    rows = await api.store.pool.fetch("SELECT * FROM api_tokens")
    assert all(token not in str(dict(r)) for r in rows)  # never the token itself
    assert (await tokens.verify(token)) is not None
    assert await tokens.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None  # wrong secret
    await tokens.revoke("ci-reader")
    assert await tokens.verify(token) is None
    async with api.http.get(api.url + "/v1/images", headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 401
    expired, _ = await tokens.create("short", "viewer", expires_in_s=0.001)
    await api.store.pool.execute("SELECT pg_sleep(0.01)")
    assert await tokens.verify(expired) is None


async def test_rescan_needs_an_operator_publishes_and_is_audited(api: Api) -> None:
    status, body, _ = await api.call("POST", f"/v1/images/{A}/rescan", role="viewer")
    assert status == 403
    status, body, _ = await api.call("POST", f"/v1/images/{A}/rescan", role="operator")
    assert status == 202, body
    assert isinstance(body, dict)
    assert body["digest"] == A
    assert body["published"] is True
    image = await Reads(api.store.pool).image(A)
    assert image is not None
    assert image.status == "pending"
    events = [decode_event(Topics.SCAN_REQUESTS, m.value) for m in api.bus.records(Topics.SCAN_REQUESTS)]
    assert [(e.digest, e.reason) for e in events if isinstance(e, ScanRequested)] == [(A, "requested")]
    status, audit, _ = await api.call("GET", "/v1/audit", role="admin")
    assert status == 200
    assert isinstance(audit, dict)
    mine = [(e["actor"], e["action"], e["outcome"]) for e in audit["items"]]
    assert ("token:test-operator", "image.rescan", "ok") in mine
    assert ("token:test-viewer", "image.rescan", "refused") in mine
    assert all(e["source"] == "127.0.0.1" for e in audit["items"])


async def test_rescan_of_a_fargate_only_image_is_refused_with_the_note(api: Api) -> None:
    fargate = "sha256:" + "f" * 64
    sighting = Sighting(
        digest=fargate, image_ref="", environment="ecs:111122223333", repository="app", scannable=False
    )
    await Claims(api.store.pool).claim([sighting], analysis_version="test", max_image_bytes=0)
    status, body, _ = await api.call("POST", f"/v1/images/{fargate}/rescan", role="operator")
    assert status == 409
    assert isinstance(body, dict)
    assert FARGATE_NOTE in body["error"]
    status, body, _ = await api.call("POST", "/v1/images/sha256:" + "0" * 64 + "/rescan", role="operator")
    assert status == 404


async def test_link_changes_are_audited_with_who_what_and_where(api: Api) -> None:
    link = "/v1/registries/reg.example.com/links/prod-eu"
    assert (await api.call("PUT", link, role="operator"))[0] == 201
    assert (await api.call("DELETE", link, role="operator"))[0] == 409  # its last link
    assert (await api.call("GET", "/v1/audit", role="operator"))[0] == 403
    status, audit, _ = await api.call("GET", "/v1/audit", role="admin")
    assert status == 200
    assert isinstance(audit, dict)
    first, second = audit["items"][1], audit["items"][0]  # newest first
    assert (first["action"], first["outcome"], first["actor"]) == (
        "registry.link",
        "ok",
        "token:test-operator",
    )
    assert "registry=reg.example.com" in first["target"]
    assert "cluster=prod-eu" in first["target"]
    assert (second["action"], second["outcome"]) == ("registry.unlink", "refused")
    assert "last link" in second["detail"]


async def test_rate_limit_answers_429_with_retry_after(api: Api) -> None:
    config = AuthConfig(rate_per_s=0.01, rate_burst=3, login_failures_per_min=2)
    async with serve(api.store, config) as url:
        auth = {"Authorization": f"Bearer {api.tokens['viewer']}"}
        statuses = []
        for _ in range(4):
            async with api.http.get(url + "/v1/images", headers=auth) as r:
                statuses.append((r.status, r.headers.get("Retry-After")))
        assert statuses[:3] == [(200, None)] * 3
        assert statuses[3][0] == 429
        assert int(statuses[3][1] or 0) >= 1
        bad = {"Authorization": "Bearer assay_000000000000_" + "x" * 43}
        failures = []
        for _ in range(3):
            async with api.http.get(url + "/v1/images", headers=bad) as r:
                failures.append(r.status)
        assert failures == [401, 401, 429]  # failed logins from this address are limited


async def test_an_oidc_id_token_signed_by_the_issuer_is_accepted_and_others_refused(
    api: Api, issuer: FakeIssuer
) -> None:
    config = AuthConfig(oidc_issuer=issuer.issuer, oidc_client_id=issuer.client_id)
    async with serve(api.store, config) as url:

        async def status(token: str, url: str = url) -> tuple[int, object]:
            async with api.http.get(url + "/v1/whoami", headers={"Authorization": f"Bearer {token}"}) as r:
                return r.status, await r.json()

        code, me = await status(issuer.sign({"assay_role": "operator"}))
        assert code == 200
        assert isinstance(me, dict)
        assert (me["role"], me["via"], me["actor"]) == ("operator", "oidc", "oidc:u-123 (ada@example.com)")
        assert (await status(issuer.sign({"assay_role": "admin"}, key=new_key())))[0] == 401  # another key
        assert (await status(issuer.sign({"assay_role": "admin", "aud": "someone-else"})))[0] == 401
        assert (await status(issuer.sign({"assay_role": "admin", "iss": "https://evil.example"})))[0] == 401
        assert (await status(issuer.sign({"assay_role": "admin", "exp": 1_000_000})))[0] == 401  # expired
        assert (await status(issuer.sign({})))[0] == 401  # no role claim, no default role
        assert (await status(issuer.sign({"assay_role": "root"})))[0] == 401


async def test_console_logs_in_through_the_authorization_code_flow_with_pkce(
    api: Api, issuer: FakeIssuer
) -> None:
    config = AuthConfig(
        oidc_issuer=issuer.issuer, oidc_client_id=issuer.client_id, oidc_default_role="viewer"
    )
    async with serve(api.store, config) as url:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            async with browser.get(url + "/console/findings") as r:  # follows login -> start -> IdP -> back
                assert r.url.path == "/console/login"
            async with browser.get(url + "/console/oidc/start?next=/console/images") as r:
                assert r.status == 200, await r.text()
                assert r.url.path == "/console/images"
            assert issuer.token_requests[0]["code_verifier"]  # PKCE: the verifier went to the token endpoint
            session = [c for c in jar if c.key == "assay_session"]
            assert session
            assert session[0]["httponly"]
            assert session[0]["samesite"] == "Lax"
            async with browser.get(url + "/console/images") as r:
                assert r.status == 200
                assert "oidc:u-123 (ada@example.com) (viewer)" in await r.text()
            # a replayed callback (the code is spent, the login cookie is gone) is refused
            async with browser.get(url + "/console/oidc/callback?code=x&state=y") as r:
                assert r.status == 401


async def test_the_bootstrap_token_is_registered_at_start_as_admin(api: Api) -> None:
    token = "assay_0123456789ab_" + "k" * 43
    async with serve(api.store, AuthConfig(bootstrap_token=token)) as url:
        headers = {"Authorization": f"Bearer {token}"}
        async with api.http.get(url + "/v1/audit", headers=headers) as r:
            assert r.status == 200
    stored = await api.store.pool.fetchrow(
        "SELECT name, role FROM api_tokens WHERE token_id = '0123456789ab'"
    )
    assert (stored["name"], stored["role"]) == ("bootstrap", "admin")


def test_the_openapi_document_declares_the_security_schemes() -> None:
    doc = openapi_document("https://login.example.com")
    schemes = doc["components"]["securitySchemes"]
    assert schemes["apiToken"] == {**schemes["apiToken"], "type": "http", "scheme": "bearer"}
    assert schemes["oidc"]["openIdConnectUrl"] == "https://login.example.com/.well-known/openid-configuration"
    assert doc["security"] == [{"apiToken": []}, {"oidcIdToken": []}]
    assert doc["paths"]["/healthz"]["get"]["security"] == []
    rescan = doc["paths"]["/v1/images/{digest}/rescan"]["post"]["responses"]
    assert "401" in rescan
    assert "outside the environments" in rescan["403"]["description"]
    assert "assay_scope" in schemes["oidcIdToken"]["description"]
