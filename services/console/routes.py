"""The console's routes on the API app: Findings, Finding, Images, Image, exports and static files.

Every page is rendered on the server from ``Reads``, the read model behind the JSON API, so the
console shows exactly what the API returns. Bad query parameters answer 400 with the API's own
message; a store failure answers 503; every response carries the console's security headers.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from aiohttp import web

from schemas.vocabulary import SEVERITIES
from services.api.params import encode_cursor, image_filter, next_link
from services.api.store import FindingFilter, FindingView, Reads
from services.console.base import (
    CONSOLE,
    Console,
    guarded,
    not_found,
    page,
    query_of,
    reads_of,
)
from services.console.environments import add_environment_routes
from services.console.export import findings_csv, findings_json
from services.console.login import add_login_routes
from services.console.pages import add_pages
from services.console.query import (
    FILTERS,
    SORTS,
    finding_query,
    page_of,
    query_string,
    severity_counts,
    sorted_findings,
)
from services.console.render import STATUS_LABELS, load_assets, make_templates
from services.console.rows import finding_rows
from services.console.sbom import add_sbom_routes
from services.console.scans import scan_view

__all__ = ["MAX_ROWS", "add_console_routes"]

MAX_ROWS: Final = 10_000  # the most findings one selection (and one export) reads
ELSEWHERE_MAX: Final = 500  # the most findings of one problem the Finding page reads to list other images
CHUNK_ROWS: Final = 100  # Findings rows per chunk table: what the browser lays out at a time (findings.html)


async def _selection(request: web.Request) -> tuple[list[FindingView], bool, Any]:
    """The findings the page's filters select (sorted), whether more matched, and the parsed query."""
    console = request.app[CONSOLE]
    fq = finding_query(query_of(request), console.max_rows)
    rows = await reads_of(request).findings(fq.flt)
    more = len(rows) > console.max_rows
    return sorted_findings(rows[: console.max_rows], fq), more, fq


async def _findings(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    rows, more, fq = await _selection(request)
    shown, pages = page_of(rows, fq)
    query = query_of(request)
    return page(
        request,
        "findings.html",
        rows=shown,
        total=len(rows),
        more=more,
        max_rows=console.max_rows,
        counts=severity_counts(rows),
        fq=fq,
        pages=pages,
        query=query,
        value=lambda name: ",".join(query.get(name, [])),
        link=lambda **changes: "?" + query_string(query, **changes),
        export=query_string(query, page=None, per_page=None, sort=None, order=None),
        filters=FILTERS,
        sorts=list(SORTS),
        severities=SEVERITIES,
        chunk_rows=CHUNK_ROWS,
        finding_rows=finding_rows,
    )


async def _export_csv(request: web.Request) -> web.StreamResponse:
    rows, _, _ = await _selection(request)
    response = web.Response(text=findings_csv(rows), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="findings.csv"'
    return response


async def _export_json(request: web.Request) -> web.StreamResponse:
    rows, _, _ = await _selection(request)
    response = web.Response(body=findings_json(rows), content_type="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="findings.json"'
    return response


def _heading(f: FindingView) -> str:
    """A finding's page title: the CVE id for CVEs, the image's name for ImageScan, else its title."""
    if f.category == "CVE":
        return f.id
    if f.category == "ImageScan":
        return (f.image_ref or f.digest).split("@", 1)[0]
    return f.title


async def _elsewhere(reads: Reads, f: FindingView) -> list[FindingView]:
    """The same problem (category, id and package) in the other images the caller may see, by image."""
    if f.category == "ImageScan":  # an alert is about its own image only
        return []
    found = await reads.findings(FindingFilter(text=f.id, categories=[f.category], limit=ELSEWHERE_MAX))
    by_digest: dict[str, FindingView] = {}
    for other in found:  # most severe first: an image's worst rating of it, whatever the ruleset
        if other.id == f.id and other.package_name == f.package_name and other.digest != f.digest:
            by_digest.setdefault(other.digest, other)
    return sorted(by_digest.values(), key=lambda o: (o.image_ref or "", o.digest))


async def _finding(request: web.Request) -> web.StreamResponse:
    finding_id = request.match_info["finding_id"]
    reads = reads_of(request)
    finding = await reads.finding(finding_id)
    if finding is None:
        return not_found(request, f"no finding with id {finding_id!r}")
    elsewhere = await _elsewhere(reads, finding)
    return page(request, "finding.html", f=finding, heading=_heading(finding), elsewhere=elsewhere)


async def _images(request: web.Request) -> web.StreamResponse:
    query = {k: [v for v in vs if v.strip()] for k, vs in query_of(request).items()}
    flt = image_filter({k: vs for k, vs in query.items() if vs})
    rows = await reads_of(request).images(msgspec.structs.replace(flt, limit=flt.limit + 1))
    shown, more = rows[: flt.limit], len(rows) > flt.limit
    nxt = next_link(request.path, query, encode_cursor(shown[-1].digest)) if more else None
    return page(
        request,
        "images.html",
        rows=shown,
        next=nxt,
        query=query,
        value=lambda name: ",".join(query.get(name, [])),
        statuses=STATUS_LABELS,
        severities=SEVERITIES,
    )


async def _image(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    digest = request.match_info["digest"]
    reads = reads_of(request)
    image = await reads.image(digest)
    if image is None:
        return not_found(request, f"no image with digest {digest!r}")
    findings = await reads.findings(FindingFilter(digests=[digest], limit=console.max_rows))
    scan = await scan_view(reads, digest, findings)
    rescan = request.query.get("rescan", "")  # the scan id a Request Rescan just made
    return page(
        request, "image.html", image=image, scan=scan, findings=findings, severities=SEVERITIES, rescan=rescan
    )


async def _static(request: web.Request) -> web.StreamResponse:
    found = request.app[CONSOLE].assets.get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound()
    body, kind = found
    response = web.Response(body=body, content_type=kind)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


async def _index(_: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/findings")


def add_console_routes(
    app: web.Application, reads: Reads, *, max_rows: int = MAX_ROWS, rulesets_dir: str = ""
) -> None:
    """Mount the console under ``/console`` on ``app``, rendering from ``reads``."""
    app[CONSOLE] = Console(
        reads=reads,
        templates=make_templates(),
        assets=load_assets(),
        max_rows=max_rows,
        rulesets_dir=rulesets_dir,
    )
    get = app.router.add_get
    get("/console", _index, allow_head=False)
    get("/console/", _index, allow_head=False)
    get("/console/findings", guarded(_findings), allow_head=False)
    get("/console/export/findings.csv", guarded(_export_csv), allow_head=False)
    get("/console/export/findings.json", guarded(_export_json), allow_head=False)
    get("/console/findings/{finding_id:.+}", guarded(_finding), allow_head=False)
    get("/console/images", guarded(_images), allow_head=False)
    get("/console/images/{digest}", guarded(_image), allow_head=False)
    get("/console/static/{name}", guarded(_static), allow_head=False)
    add_login_routes(app)  # /console/login, /console/oidc/*, /console/logout
    add_environment_routes(app, guarded)  # /console/environments: environments, registry links
    add_pages(app, guarded)  # rescan, rulesets, alerts, advisory data, audit
    add_sbom_routes(app, guarded)  # /console/images/{digest}/sbom/{cyclonedx,spdx}
