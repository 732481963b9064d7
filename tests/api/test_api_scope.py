"""Tokens limited to environments or OUs: every route, found from the app's router, shows a limited
token nothing of another team's images, findings, alerts, workloads or environments, and refuses it
every change outside its scope with 403 (audited with the scope); inside its scope it works."""

from __future__ import annotations

import json
import re

import pytest

from services.api.app import make_app
from services.api.auth.access import Access
from services.api.auth.roles import GLOBAL, PUBLIC
from services.api.auth.tokens import TokenError, Tokens
from services.api.scope import Scope, ScopeError, parse_scope
from services.api.settings import AuthConfig
from services.api.store import Reads
from services.common.store.assignments import Assignments
from tests.api.fake_oidc import FakeIssuer
from tests.api.seed import IMAGES, Api, serve

A, B, C, D = IMAGES
# path parameters naming what a token limited to cluster:dev must not see or change
OUTSIDE = {"digest": A, "finding_id": "a-001", "registry": "127.0.0.1:5000", "cluster": "prod-eu"}
# what another team's data looks like in any answer: digests, finding ids, environments, OUs
HIDDEN = re.compile(
    "|".join([*(d.removeprefix("sha256:") for d in (A, B, D)), r"\b[abd]-0\d\d\b"])
    + r"|prod-eu|prod-us|payments|platform|registry:127\.0\.0\.1:5000|CVE-202[34]-"
)
# changes that name no image or environment (they only end the caller's own session)
UNSCOPED_CHANGES = frozenset({("POST", "/console/logout")})


def _routes(api: Api) -> list[tuple[str, str]]:
    app = make_app(Reads(api.store.pool), Access(AuthConfig(), api.store.pool))
    found = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.resource is not None and r.method != "HEAD" and r.resource.canonical not in PUBLIC
    }
    return sorted(found)


def _url(path: str, fill: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: fill.get(m[1], "x"), path)


async def _call(
    api: Api, method: str, path: str, token: str, form: dict[str, str] | None = None
) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"}
    async with api.http.request(
        method, api.url + path, headers=headers, data=form, allow_redirects=False
    ) as response:
        return response.status, await response.text()


async def _token(api: Api, name: str, role: str, *entries: str) -> str:
    return (await Tokens(api.store.pool).create(name, role, scope=parse_scope(entries)))[0]


async def _seed_context(api: Api) -> None:
    """Workloads in both teams' clusters and ruleset assignments to the other team's environment."""
    await api.store.pool.executemany(
        "INSERT INTO image_workloads (digest, environment, namespace, workload_kind, workload, container, "
        "pod_count) VALUES ($1, $2, 'shop', 'Deployment', 'web', 'app', 2)",
        [(A, "cluster:prod-eu"), (C, "cluster:dev")],
    )
    await Assignments(api.store.pool).assign("environment", "cluster:prod-eu", "default")
    await Assignments(api.store.pool).assign("ou", "payments", "default")


async def test_every_read_route_shows_a_limited_token_only_its_environments(api: Api) -> None:
    await _seed_context(api)
    dev = await _token(api, "team-dev", "operator", "cluster:dev")
    reads = [(m, p) for m, p in _routes(api) if m == "GET"]
    assert ("GET", "/v1/workloads/{cluster}/{namespace}/{kind}/{name}/images") in reads
    assert {p for _, p in reads} >= GLOBAL  # a renamed global route would slip out of the table
    for method, path in reads:
        status, text = await _call(api, method, _url(path, OUTSIDE), dev)
        if path in GLOBAL:
            assert status == 403, (path, text)  # an admin route (no admin is limited), or /metrics
            assert "limited to cluster:dev" in text or "this needs admin" in text
            continue
        assert status in (200, 302, 303, 403, 404), (path, status, text)  # 302: /console -> findings
        if status == 200:
            leak = HIDDEN.search(text)
            assert leak is None, (path, leak[0] if leak else "", text[:300])
    # and it does see its own: the image, its environment and workload, on the API and the console
    for path, own in [
        ("/v1/images", C),
        (f"/v1/images/{C}", "cluster:dev"),
        (f"/v1/images/{C}/workloads", '"cluster":"dev"'),
        ("/v1/workloads/dev/shop/Deployment/web/images", C),
        ("/console/images", C[7:19]),
        ("/console/environments", "cluster:dev"),
    ]:
        status, text = await _call(api, "GET", path, dev)
        assert status == 200, (path, text)
        assert own in text, path


async def test_an_ou_scope_lists_its_images_and_findings_and_hides_other_locations(api: Api) -> None:
    payments = await _token(api, "team-payments", "viewer", "ou:payments")
    status, text = await _call(api, "GET", "/v1/images?limit=100", payments)
    assert status == 200
    images = api_json(text)["items"]
    assert sorted(i["digest"] for i in images) == [A, B]
    a = next(i for i in images if i["digest"] == A)
    assert a["environments"] == ["cluster:prod-eu"]  # its registry belongs to the platform OU
    assert a["ous"] == ["payments"]
    assert a["finding_counts"]  # the image's own findings are counted
    status, text = await _call(api, "GET", "/v1/findings?limit=1000", payments)
    found = api_json(text)["items"]
    assert {f["finding_id"][0] for f in found} == {"a", "b"}
    assert all(set(f["environments"]) <= {"cluster:prod-eu", "cluster:prod-us"} for f in found)
    assert (await _call(api, "GET", "/v1/findings/d-000", payments))[0] == 404
    assert (await _call(api, "GET", f"/v1/images/{C}", payments))[0] == 404
    status, text = await _call(api, "GET", "/v1/findings?environment=cluster:dev", payments)
    assert api_json(text)["items"] == []  # a filter cannot widen the scope
    status, text = await _call(api, "GET", "/console/findings?per_page=100", payments)
    assert status == 200
    assert "a-001" in text
    assert "d-000" not in text


def api_json(text: str) -> dict[str, list[dict[str, object]]]:
    body = json.loads(text)
    assert isinstance(body, dict)
    return body


async def test_every_change_outside_the_scope_is_403_and_audited_with_the_scope(api: Api) -> None:
    dev = await _token(api, "team-dev", "operator", "cluster:dev", "registry:reg.example.com")
    changes = [(m, p) for m, p in _routes(api) if m != "GET" and (m, p) not in UNSCOPED_CHANGES]
    assert ("POST", "/v1/images/{digest}/rescan") in changes
    assert ("POST", "/console/environments/unlink") in changes
    form = {"registry": OUTSIDE["registry"], "cluster": OUTSIDE["cluster"]}
    for method, path in changes:
        status, text = await _call(api, method, _url(path, OUTSIDE), dev, form)
        assert status == 403, (method, path, status, text)
    image = await Reads(api.store.pool).image(A)
    assert image is not None
    assert image.status == "scanned"  # not rescanned
    audit = await api.store.pool.fetch(
        "SELECT action, outcome, scope FROM audit_log WHERE actor = 'token:team-dev' ORDER BY id"
    )
    assert len(audit) == len(changes)
    assert {(r["outcome"], tuple(r["scope"])) for r in audit} == {
        ("refused", ("cluster:dev", "registry:reg.example.com"))
    }
    assert {r["action"] for r in audit} >= {"image.rescan", "registry.link", "registry.unlink"}
    # inside the scope the same token works
    status, text = await _call(api, "POST", f"/v1/images/{C}/rescan", dev)
    assert status == 202, text
    status, text = await _call(api, "PUT", "/v1/registries/reg.example.com/links/dev", dev)
    assert status == 201, text
    status, text = await _call(api, "PUT", "/v1/registries/reg.example.com/links/prod-eu", dev)
    assert status == 403  # the registry is its own, the cluster is not
    status, text = await _call(api, "GET", "/v1/registries", dev)
    assert api_json(text)["items"] == [{"registry": "reg.example.com", "clusters": ["dev"]}]
    ok = await api.store.pool.fetch(
        "SELECT action FROM audit_log WHERE actor = 'token:team-dev' AND outcome = 'ok' ORDER BY id"
    )
    assert [r["action"] for r in ok] == ["image.rescan", "registry.link"]


async def test_a_console_session_keeps_the_scope_of_the_token_that_opened_it(api: Api) -> None:
    from services.api.auth.sessions import Sessions

    token = await _token(api, "team-dev", "viewer", "cluster:dev")
    principal = await Tokens(api.store.pool).verify(token)
    assert principal is not None
    assert principal.scope == Scope(environments=("cluster:dev",))
    cookie, _ = await Sessions(api.store.pool, 60).open(principal)
    async with api.http.get(
        api.url + "/console/images", headers={"Authorization": ""}, cookies={"assay_session": cookie}
    ) as response:
        text = await response.text()
    assert response.status == 200
    assert C[7:19] in text
    assert HIDDEN.search(text) is None
    async with api.http.get(
        api.url + "/v1/whoami", headers={"Authorization": ""}, cookies={"assay_session": cookie}
    ) as response:
        me = await response.json()
    assert (me["via"], me["scope"]) == ("session", {"environments": ["cluster:dev"], "ous": []})


async def test_an_admin_cannot_be_limited_and_bad_entries_are_named(api: Api) -> None:
    with pytest.raises(TokenError, match="an admin cannot be limited"):
        await _token(api, "x", "admin", "cluster:dev")
    with pytest.raises(ScopeError, match=r"'dev'.*KIND:NAME"):
        parse_scope(["dev"])
    assert parse_scope(["ou:b", "cluster:a", " ", "ou:b"]).entries() == ["cluster:a", "ou:b"]


async def test_an_oidc_token_takes_its_scope_from_the_configured_claim(api: Api, issuer: FakeIssuer) -> None:
    config = AuthConfig(oidc_issuer=issuer.issuer, oidc_client_id=issuer.client_id, oidc_scope_claim="teams")
    async with serve(api.store, config) as url:

        async def get(path: str, claims: dict[str, object]) -> tuple[int, object]:
            headers = {"Authorization": f"Bearer {issuer.sign(claims)}"}
            async with api.http.get(url + path, headers=headers) as r:
                return r.status, await r.json()

        status, me = await get("/v1/whoami", {"assay_role": "operator", "teams": "ou:payments, cluster:dev"})
        assert status == 200
        assert isinstance(me, dict)
        assert me["scope"] == {"environments": ["cluster:dev"], "ous": ["payments"]}
        status, page = await get("/v1/images", {"assay_role": "viewer", "teams": ["cluster:dev"]})
        assert isinstance(page, dict)
        assert [i["digest"] for i in page["items"]] == [C]
        status, page = await get("/v1/images", {"assay_role": "viewer"})  # no claim: every environment
        assert isinstance(page, dict)
        assert len(page["items"]) == len(IMAGES)
        for refused in (
            {"assay_role": "admin", "teams": ["cluster:dev"]},  # an admin is never limited
            {"assay_role": "viewer", "teams": ["dev"]},  # not KIND:NAME
            {"assay_role": "viewer", "teams": [7]},
        ):
            assert (await get("/v1/images", refused))[0] == 401, refused
