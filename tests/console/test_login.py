"""Signing in to the console with an API token: the session cookie's flags, CSRF on every form,
login CSRF, failed sign-ins limited and audited, sign-out ending the session."""

from __future__ import annotations

import aiohttp
from yarl import URL

from services.api.auth.audit import Audit
from services.api.auth.tokens import Tokens
from services.api.scope import parse_scope
from tests.console.conftest import Console, field_value


async def test_an_anonymous_visit_is_sent_to_the_login_page(console: Console) -> None:
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(console.url + "/console/images?status=failed", allow_redirects=False) as r:
            assert r.status == 303
            location = URL(r.headers["Location"])
            assert (location.path, location.query["next"]) == (
                "/console/login",
                "/console/images?status=failed",
            )
        async with anonymous.get(console.url + r.headers["Location"]) as r:
            html = await r.text()
            assert r.status == 200
            assert 'name="token"' in html
            assert 'id="nav-findings"' not in html
            assert field_value(html, "next") == "/console/images?status=failed"
            assert "default-src 'none'" in r.headers["Content-Security-Policy"]


async def test_signing_in_sets_an_httponly_lax_session_cookie(console: Console) -> None:
    async with console.signed_in("operator") as browser:
        cookie = next(c for c in browser.cookie_jar if c.key == "assay_session")
        assert cookie["httponly"]
        assert cookie["samesite"] == "Lax"
        assert not cookie["secure"]
        assert cookie.value not in str(await console.store.pool.fetch("SELECT * FROM console_sessions"))
        async with browser.get(console.url + "/console/images") as r:
            assert r.status == 200
            assert "token:test-operator (operator)" in await r.text()
    entries = await Audit(console.store.pool).entries()
    assert [(e.actor, e.action, e.outcome) for e in entries] == [("token:test-operator", "login", "ok")]


async def test_a_form_without_its_csrf_token_is_refused_and_sign_out_ends_the_session(
    console: Console,
) -> None:
    async with console.signed_in("viewer") as browser:
        async with browser.get(console.url + "/console/images") as r:
            csrf = field_value(await r.text(), "csrf")
        async with browser.post(console.url + "/console/logout", data={}, allow_redirects=False) as r:
            assert r.status == 403  # no CSRF token
        async with browser.post(console.url + "/console/logout", data={"csrf": "x" * 43}) as r:
            assert r.status == 403  # another one
        async with browser.post(
            console.url + "/console/logout", data={"csrf": csrf}, allow_redirects=False
        ) as r:
            assert r.status == 303
            assert r.headers["Location"] == "/console/login"
        async with browser.get(console.url + "/console/images", allow_redirects=False) as r:
            assert r.status == 303  # the session is gone
    actions = [(e.action, e.outcome) for e in await Audit(console.store.pool).entries()]
    assert actions[:3] == [("logout", "ok"), ("csrf", "refused"), ("csrf", "refused")]


async def test_a_wrong_token_or_a_forged_form_is_refused_and_failures_are_limited(console: Console) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(console.url + "/console/login") as r:
            csrf = field_value(await r.text(), "csrf")
        async with browser.post(console.url + "/console/login", data={"csrf": "forged", "token": "x"}) as r:
            assert r.status == 401
            assert "form expired" in await r.text()
        statuses = []
        for _ in range(10):
            form = {"csrf": csrf, "token": "assay_000000000000_" + "y" * 43}
            async with browser.post(console.url + "/console/login", data=form) as r:
                statuses.append(r.status)
        assert statuses[:9] == [401] * 9  # ten failures a minute per address (the first was the forged form)
        assert statuses[9] == 429
        form = {"csrf": csrf, "token": console.tokens["admin"]}
        async with browser.post(console.url + "/console/login", data=form, allow_redirects=False) as r:
            assert r.status == 429
            assert int(r.headers["Retry-After"]) >= 1
    refused = [e for e in await Audit(console.store.pool).entries() if e.outcome == "refused"]
    assert len(refused) == 10
    assert all(e.action == "login" and e.source == "127.0.0.1" for e in refused)
    assert all(console.tokens["admin"] not in e.detail for e in refused)


async def test_a_limited_token_s_session_says_what_it_is_limited_to(console: Console) -> None:
    dev = parse_scope(["cluster:dev"])
    token, _ = await Tokens(console.store.pool).create("team-dev", "viewer", scope=dev)
    headers, url = {"Authorization": f"Bearer {token}"}, console.url + "/console/findings"
    async with aiohttp.ClientSession(headers=headers) as team, team.get(url) as r:
        assert r.status == 200
        assert '<span id="me">token:team-dev (viewer; limited to cluster:dev)</span>' in await r.text()
    _, body, _ = await console.get("/console/findings")
    assert '<span id="me">token:test-viewer (viewer)</span>' in body  # an unlimited token: nothing added
