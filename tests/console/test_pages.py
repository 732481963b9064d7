"""The console's pages over HTTP: filters, search, sorting, paging, counts, exports, escaping, headers."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import markupsafe
import msgspec
import pytest

from schemas import Finding
from schemas.vocabulary import SEVERITIES, severity_rank
from services.console.render import CSP
from services.dedupe.store.claims import Claims, Sighting
from tests.console.conftest import Console
from tests.console.seed import LAYERS, XSS, A, B, C, D
from tests.harness.seed import evaluate

ROW = re.compile(r'<tr data-finding="([^"]+)"')


def _all(console: Console) -> list[Finding]:
    return [f for items in console.findings.values() for f in items]


def _default_order(findings: list[Finding]) -> list[str]:
    return [f.finding_id for f in sorted(findings, key=lambda f: (severity_rank(f.severity), f.finding_id))]


def _rows(body: str) -> list[str]:
    return [html.unescape(m) for m in ROW.findall(body)]


def _counts(body: str) -> dict[str, int]:
    found = re.findall(r'data-severity="(\w+)"><span class="n">(\d+)</span>', body)
    return {sev: int(n) for sev, n in found}


async def test_findings_page_lists_every_current_finding_with_counts_by_severity(console: Console) -> None:
    status, body, headers = await console.get("/console/findings", per_page="1000")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert _rows(body) == _default_order(_all(console))
    expected = {sev: 0 for sev in SEVERITIES}
    for f in _all(console):
        expected[SEVERITIES[severity_rank(f.severity)]] += 1
    assert _counts(body) == expected  # "critical" counts as CRITICAL, "WEIRD" as UNKNOWN


async def test_filters_by_severity_and_environment(console: Console) -> None:
    status, body, _ = await console.get("/console/findings", severity="high", environment="cluster:prod-us")
    assert status == 200
    expected = [f for f in console.findings[B] if severity_rank(f.severity) <= 1]
    assert sorted(_rows(body)) == sorted(f.finding_id for f in expected) == ["b-000", "b-001", "b-005"]
    assert _counts(body) == {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0}
    assert 'value="HIGH" selected' in body  # the form shows the filter it applied


async def test_search_matches_text_literally(console: Console) -> None:
    _, body, _ = await console.get("/console/findings", q="openssl")
    assert sorted(_rows(body)) == sorted(f.finding_id for f in console.findings[B])
    _, body, _ = await console.get("/console/findings", q="100%")  # % is text, not a wildcard
    assert _rows(body) == ["a-007"]
    _, body, _ = await console.get("/console/findings", q="ATTACKER wrote")  # in a description only
    assert _rows(body) == ["a-xss"]
    _, body, _ = await console.get("/console/findings", q="team/db")  # image B's reference
    assert sorted(_rows(body)) == sorted(f.finding_id for f in console.findings[B])


async def test_every_column_sorts_the_whole_selection_both_ways(console: Console) -> None:
    findings = _all(console)
    _, body, _ = await console.get("/console/findings", sort="package", order="desc", per_page="5")
    key = sorted(findings, key=lambda f: (f.package_name.lower(), severity_rank(f.severity), f.finding_id))
    assert _rows(body) == [f.finding_id for f in reversed(key)][:5]
    assert 'aria-sort="descending"' in body
    _, body, _ = await console.get("/console/findings", sort="id", per_page="1000")
    by_id = sorted(findings, key=lambda f: (f.id.lower(), severity_rank(f.severity), f.finding_id))
    assert _rows(body) == [f.finding_id for f in by_id]


async def test_pages_cover_the_selection_without_overlap(console: Console) -> None:
    order = _default_order(_all(console))
    seen: list[str] = []
    page = 1
    while True:
        status, body, _ = await console.get("/console/findings", per_page="10", page=str(page))
        assert status == 200
        seen += _rows(body)
        if 'id="next"' not in body:
            break
        page += 1
    assert seen == order
    assert page == -(-len(order) // 10)
    _, body, _ = await console.get("/console/findings", per_page="10", page=str(page + 1))
    assert _rows(body) == []
    assert 'id="no-findings"' in body


async def test_exports_carry_the_current_filter(console: Console) -> None:
    status, body, headers = await console.get("/console/export/findings.csv", severity="low", ou="payments")
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(body)))
    expected = [f for d in (A, B) for f in console.findings[d] if severity_rank(f.severity) <= 3]
    assert sorted(r["finding_id"] for r in table) == sorted(f.finding_id for f in expected)
    formula = next(r for r in table if r["finding_id"] == "a-formula")
    assert formula["title"].startswith("'=HYPERLINK")  # never a live formula in a spreadsheet
    assert next(r for r in table if r["finding_id"] == "b-000")["environments"] == "cluster:prod-us"
    scored = next(r for r in table if r["finding_id"] == "a-suppressed")  # the seeded vector, source and EPSS
    assert (scored["cvss_vector"], scored["severity_source"], scored["epss"]) == (
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "cvss_v3",
        "0.97312",
    )

    status, body, _ = await console.get("/console/export/findings.json", q="openssl", sort="title")
    items = json.loads(body)
    assert status == 200
    assert sorted(i["finding_id"] for i in items) == sorted(f.finding_id for f in console.findings[B])
    assert {i["package_name"] for i in items} == {"openssl"}


async def test_hostile_text_is_escaped_everywhere(console: Console) -> None:
    for path in ("/console/findings", "/console/findings/a-xss", f"/console/images/{A}"):
        status, body, _ = await console.get(path, **({"per_page": "1000"} if path.endswith("s") else {}))
        assert status == 200, path
        assert "<script>alert" not in body, path
        assert "<img src=x" not in body, path
        assert "<b>bold</b>" not in body, path
    _, body, _ = await console.get("/console/findings/a-xss")
    assert str(markupsafe.escape(XSS)) in body  # shown as text, in full


@pytest.mark.parametrize(
    "path",
    [
        "/console/findings",
        "/console/findings/a-001",
        "/console/images",
        f"/console/images/{A}",
        "/console/findings?severity=nonsense",
        "/console/findings/no-such-finding",
    ],
)
async def test_every_page_has_a_strict_csp_and_no_inline_script_or_style(console: Console, path: str) -> None:
    async with console.http.get(console.url + path) as r:
        body, headers = await r.text(), r.headers
    assert headers["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in CSP
    assert "script-src 'self'" in CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert re.findall(r"<script(?![^>]*\bsrc=)", body) == []  # every script is a file
    assert " style=" not in body
    assert "<style" not in body
    links = re.findall(r'(?:src|href|action)="([^"]*)"', body)
    assert [u for u in links if not u.startswith(("/", "?", "#"))] == []  # no CDN: every asset is ours


async def test_finding_page_shows_what_acting_on_it_needs(console: Console) -> None:
    status, body, _ = await console.get("/console/findings/a-suppressed")
    assert status == 200
    assert '<h1 id="finding-title">CVE-2024-9999</h1>' in body  # a CVE is titled by its id
    assert "not reachable: the parser is never called (ticket SEC-12)" in body
    assert "ignore-lib0-parser" in body
    assert '<dd id="kev">yes</dd>' in body
    assert '<dd id="cvss-score">9.8</dd>' in body
    assert '<dd id="severity-source">cvss_v3</dd>' in body
    assert '<dd id="cvss-vector"><code>CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</code></dd>' in body
    assert '<dd id="epss">97.31%</dd>' in body  # a probability, shown as a percentage
    assert "1.0.1" in body
    assert "pkg:deb/debian/lib0@1.0" in body
    assert "cluster:prod-eu, registry:127.0.0.1:5000" in body
    assert f"#layer-{LAYERS[1].digest}" in body

    _, body, _ = await console.get("/console/findings/d-000")
    assert f'<h1 id="finding-title">{D}</h1>' in body  # ImageScan: titled by the image
    for fact in ("severity-source", "cvss-vector", "epss"):
        assert f'<dd id="{fact}">—</dd>' in body  # none known: a dash, never 0.00%


async def test_finding_page_lists_the_other_images_with_the_same_problem(console: Console) -> None:
    b0 = console.findings[B][0]  # CVE-2023-2000 in openssl
    same = msgspec.structs.replace(b0, finding_id="c-000", environment="cluster:dev")
    other_package = msgspec.structs.replace(b0, finding_id="d-001", package_name="libssl3", purl="")
    stricter = msgspec.structs.replace(b0, finding_id="b-strict", ruleset="strict")  # B again: not "other"
    await evaluate(console.store, C, [same], evaluation_id="t:c")
    await evaluate(console.store, D, [*console.findings[D], other_package], evaluation_id="t:d")
    await evaluate(console.store, B, [*console.findings[B], stricter], evaluation_id="t:b")
    _, body, _ = await console.get(f"/console/findings/{b0.finding_id}")
    table = body[body.index('id="elsewhere"') :]
    assert re.findall(r'<tr data-digest="([^"]+)">', table) == [C]
    assert 'href="/console/findings/c-000"' in table
    _, body, _ = await console.get("/console/findings/b-001")  # CVE-2023-2001: in image B only
    assert 'id="no-elsewhere"' in body
    _, body, _ = await console.get("/console/findings/d-000")
    assert 'id="elsewhere"' not in body  # an alert is about its own image


async def test_images_page_shows_status_reason_environments_and_counts(console: Console) -> None:
    status, body, _ = await console.get("/console/images")
    assert status == 200
    assert body.count("<tr data-digest=") == 4
    assert 'Failed<div class="reason">layer sha256:dead: unexpected end of gzip stream</div>' in body
    assert "Pending Scan" in body
    assert "Scanned" in body
    _, body, _ = await console.get("/console/images", status="failed")
    assert re.findall(r'<tr data-digest="([^"]+)"', body) == [B]


async def test_an_image_over_the_size_limit_shows_too_large_with_its_size(console: Console) -> None:
    big = "sha256:" + "e" * 64
    ref = f"127.0.0.1:5000/team/huge@{big}"
    sighting = Sighting(
        digest=big, image_ref=ref, environment="cluster:dev", repository="team/huge", size_bytes=3_000
    )
    await Claims(console.store.pool).claim([sighting], analysis_version="t", max_image_bytes=2_000)
    _, body, _ = await console.get("/console/images", status="too_large")
    assert re.findall(r'<tr data-digest="([^"]+)"', body) == [big]
    status = re.search(r'<td class="status status-too_large">(.*?)</td>', body, re.S)
    assert status is not None
    assert status[1].startswith("Too Large")
    assert "image is 3000 bytes, over max_image_size_mb (2000 bytes)" in status[1]


async def test_image_page_shows_layers_with_commands_packages_and_findings(console: Console) -> None:
    status, body, _ = await console.get(f"/console/images/{A}")
    assert status == 200
    layer_rows = re.findall(r'<tr id="layer-(sha256:\w+)">(.*?)</tr>', body, re.S)
    assert [d for d, _ in layer_rows] == [layer.digest for layer in LAYERS]
    for (_, row), layer in zip(layer_rows, LAYERS, strict=True):
        assert html.escape(layer.created_by) in row
    first, second, third = (row for _, row in layer_rows)
    # layer 1's findings name it by diff_id, layer 2's by blob digest: both are placed
    assert "CVE-2024-1000" in first
    assert "CVE-2024-1001" in second
    assert "ASSAY-XSS-1" in third
    assert "ASSAY-CSV-1" in third
    assert re.search(r'<td class="n">5</td>', second)  # lib0..lib4 came with the apt-get layer
    assert "pkg:deb/debian/python3@3.11.2" in body


async def test_an_unreadable_stored_scan_is_a_note_not_an_error(console: Console) -> None:
    await console.store.save_scan(
        "scan-bad", D, b'{"ref": 7, "layers": "none"}', b'{"not": "a list"}', b"[]", "t"
    )
    status, body, _ = await console.get(f"/console/images/{D}")
    assert status == 200
    notes = [html.unescape(n) for n in re.findall(r'<p class="note scan-note">(.*?)</p>', body)]
    assert len(notes) == 2
    assert notes[0].startswith("scan scan-bad: its image description is unreadable: Expected `str`")
    assert notes[1].startswith("scan scan-bad: its package inventory is unreadable: Expected `array`")
    assert "threshold passed" in body  # the image's findings are still shown


async def test_bad_requests_and_missing_things_answer_clearly(console: Console) -> None:
    status, body, _ = await console.get("/console/findings", severity="nonsense")
    assert status == 400
    assert "unknown severity" in html.unescape(body)
    status, body, _ = await console.get("/console/findings", sort="colour")
    assert status == 400
    assert "unknown column" in html.unescape(body)
    status, body, _ = await console.get("/console/findings", bogus="1")
    assert status == 400
    assert "unknown parameter 'bogus'" in html.unescape(body)
    status, body, _ = await console.get("/console/findings/no-such")
    assert status == 404
    assert "no finding with id" in html.unescape(body)
    status, _, _ = await console.get("/console/images/sha256:" + "f" * 64)
    assert status == 404
    status, _, headers = await console.get("/console/static/console.js")
    assert status == 200
    assert headers["Content-Type"].startswith(("text/javascript", "application/javascript"))
    status, _, _ = await console.get("/console/static/..%2Fquery.py")
    assert status == 404
    status, _, headers = await console.get("/console")
    assert status == 302
    assert headers["Location"] == "/console/findings"
