"""The console's action forms and pages over HTTP: Request Rescan (operator only, refused for
Fargate-only images), Environments with Link and Unlink (the last link refused), Rulesets,
Alerts, Advisory data and the admin's audit log."""

from __future__ import annotations

import re
from html import escape as html_escape
from pathlib import Path

from aiohttp.test_utils import TestServer

from services.api.app import make_app
from services.api.auth.access import Access
from services.api.auth.audit import Audit
from services.api.settings import AuthConfig
from services.api.store import Reads
from services.common.store.assignments import Assignments
from services.dedupe.store.claims import Claims, Sighting
from tests.console.conftest import Console, field_value
from tests.console.seed import A

FARGATE = "sha256:" + "f" * 64
# kind, name (linked), OU, last inventory time
_ENV_ROW = re.compile(
    r'<tr data-environment="([^"]+)"><td>([^<]+)</td><td><a [^>]*>[^<]*</a></td>'
    r"<td>([^<]*)</td><td>(\d{4}-[^<]+)</td>"
)


async def _fargate_image(console: Console) -> None:
    sighting = Sighting(
        digest=FARGATE, image_ref="", environment="ecs:111122223333", repository="app", scannable=False
    )
    await Claims(console.store.pool).claim([sighting], analysis_version="test", max_image_bytes=0)


async def test_a_viewer_sees_no_rescan_action_and_the_route_answers_403(console: Console) -> None:
    await _fargate_image(console)
    async with console.signed_in("viewer") as browser:
        async with browser.get(console.url + "/console/images") as r:
            html = await r.text()
        assert "Request Rescan" not in html
        assert "Not scannable where it runs (ECS Fargate)" in html  # the Fargate image carries the note
        csrf = field_value(html, "csrf")
        async with browser.post(console.url + f"/console/images/{A}/rescan", data={"csrf": csrf}) as r:
            assert r.status == 403


async def test_an_operator_requests_a_rescan_and_the_image_is_pending_again(console: Console) -> None:
    await _fargate_image(console)
    async with console.signed_in("operator") as browser:
        async with browser.get(console.url + "/console/images") as r:
            html = await r.text()
        forms = re.findall(r'action="/console/images/([^"]+)/rescan"', html)
        assert A in forms
        assert FARGATE not in forms  # not offered for the Fargate-only image
        csrf = field_value(html, "csrf")
        async with browser.post(console.url + f"/console/images/{A}/rescan", data={"csrf": csrf}) as r:
            assert r.status == 200
            assert r.url.path == f"/console/images/{A}"
            page = await r.text()
        assert 'id="status" class="status status-pending">Pending Scan' in page
        assert 'id="rescan-requested"' in page
        async with browser.post(console.url + f"/console/images/{FARGATE}/rescan", data={"csrf": csrf}) as r:
            assert r.status == 409
            assert "ECS Fargate" in await r.text()
    image = await Reads(console.store.pool).image(A)
    assert image is not None
    assert image.status == "pending"
    audited = [(e.actor, e.action, e.outcome) for e in await Audit(console.store.pool).entries()]
    assert ("token:test-operator", "image.rescan", "ok") in audited
    assert ("token:test-operator", "image.rescan", "refused") in audited


async def test_environments_show_ou_and_last_inventory_and_unlinking_the_last_link_is_refused(
    console: Console,
) -> None:
    async with console.signed_in("operator") as browser:
        async with browser.get(console.url + "/console/environments") as r:
            html = await r.text()
        rows = re.findall(_ENV_ROW, html)
        found = {(env, kind, ou) for env, kind, ou, _ in rows}
        assert ("cluster:prod-eu", "Cluster", "payments") in found
        assert ("registry:127.0.0.1:5000", "Registry", "platform") in found
        csrf = field_value(html, "csrf")
        form = {"csrf": csrf, "registry": "127.0.0.1:5000", "cluster": "prod-eu"}
        async with browser.post(console.url + "/console/environments/link", data=form) as r:
            assert r.status == 200
            assert "Linked 127.0.0.1:5000 to prod-eu." in await r.text()
        async with browser.post(console.url + "/console/environments/unlink", data=form) as r:
            assert r.status == 409
            text = await r.text()
        assert "Unlink refused" in text
        assert "last link of registry 127.0.0.1:5000" in text
        assert 'data-cluster="prod-eu"' in text  # still linked
    async with console.signed_in("viewer") as viewer, viewer.get(console.url + "/console/environments") as r:
        html = await r.text()
    assert 'data-cluster="prod-eu"' in html
    assert "Unlink</button>" not in html  # a viewer sees the links, not the actions


async def test_rulesets_alerts_advisory_data_and_the_audit_log(console: Console) -> None:
    await Assignments(console.store.pool).assign("ou", "payments", "default")
    async with console.signed_in("admin") as browser:
        async with browser.get(console.url + "/console/rulesets") as r:
            html = await r.text()
        assert 'id="ruleset-default"' in html
        assert "thresholds:" in html  # the ruleset as YAML
        assert "ou payments" in html
        async with browser.get(console.url + "/console/alerts") as r:
            html = await r.text()
        assert 'data-finding="d-000"' in html  # the ImageScan finding of image D
        assert 'data-finding="a-001"' not in html
        async with browser.get(console.url + "/console/advisories") as r:
            assert 'id="no-build"' in await r.text()
        async with browser.get(console.url + "/console/audit") as r:
            html = await r.text()
        assert "token:test-admin" in html
        assert "login" in html
    async with console.signed_in("operator") as browser, browser.get(console.url + "/console/audit") as r:
        assert r.status == 403


async def test_the_rulesets_page_shows_each_file_as_written(console: Console, tmp_path: Path) -> None:
    written = "# ours: stricter for payments\nname: strict\nthresholds:\n  HIGH: 1\nrules: []\n"
    (tmp_path / "strict.yaml").write_text(written)
    await Assignments(console.store.pool).assign("environment", "cluster:prod-eu", "strict")
    app = make_app(
        Reads(console.store.pool), Access(AuthConfig(), console.store.pool), rulesets_dir=str(tmp_path)
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("/console/rulesets"))
        async with console.http.get(url) as r:
            html = await r.text()
    finally:
        await server.close()
    assert r.status == 200
    assert html_escape(written) in html  # verbatim, comment included
    assert "environment cluster:prod-eu" in html
    assert "# The default ruleset" in html  # the shipped file, as shipped
