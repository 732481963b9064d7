"""The console's remaining pages: Request Rescan (a form on Images and Image), Rulesets, Alerts,
Advisory data and, for admins, the audit log.

- Rescan posts to ``/console/images/{digest}/rescan`` (operator, CSRF-checked), which requests it
  exactly as ``POST /v1/images/{digest}/rescan`` does; images seen only on ECS Fargate are
  refused with the note the pages show for them.
- Rulesets: each ruleset the policy service loads (the shipped default and ``rulesets.dir``), as
  YAML, with the environments and OUs it is assigned to.
- Alerts: the ImageScan findings, one per image whose findings passed a ruleset's threshold.
- Advisory data: the current build, its age, sources and whether it is stale.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
from aiohttp import web

from services.api.advisories import advisory_status
from services.api.auth.access import ACCESS
from services.api.auth.middleware import PRINCIPAL
from services.api.rescan import RESCANNER, RescanRefused
from services.api.store import FindingFilter
from services.common.store.assignments import Assignments
from services.console.base import CONSOLE, page, reads_of
from services.policy.catalog import load_rulesets

__all__ = ["add_pages"]


async def _rescan(request: web.Request) -> web.StreamResponse:
    digest = request.match_info["digest"]
    try:
        accepted = await request.app[RESCANNER].request(digest, request[PRINCIPAL].scope)
    except RescanRefused as exc:
        return page(request, "error.html", exc.status, title="Rescan refused", message=str(exc))
    target = f"/console/images/{quote(digest, safe=':')}?rescan={quote(accepted.scan_id)}"
    return web.Response(status=303, headers={"Location": target})


async def _rulesets(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    rulesets = load_rulesets(console.rulesets_dir)
    assigned: dict[str, list[str]] = {}
    reads = reads_of(request)
    for a in await Assignments(console.reads.pool).all():
        if not await reads.covers_assignment(a.scope, a.name):  # another team's environment or OU
            continue
        assigned.setdefault(a.ruleset, []).append(f"{a.scope} {a.name}")
    rows = [
        (name, r.source or "shipped with Assay", await asyncio.to_thread(_yaml, r))
        for name, r in rulesets.items()
    ]
    return page(request, "rulesets.html", rows=rows, assigned=assigned)


_MAX_YAML = 256 * 1024  # a ruleset file larger than this is shown as parsed, not as written


def _yaml(ruleset: Any) -> str:
    """A ruleset's YAML as its author wrote it (the file, or the shipped default); as parsed otherwise."""
    source = Path(ruleset.source) if ruleset.source else None
    try:
        if source is not None and source.is_file() and source.stat().st_size <= _MAX_YAML:
            return source.read_text("utf-8")
        if ruleset.source == "default.yaml":
            return resources.files("services.policy.rulesets").joinpath("default.yaml").read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        pass  # moved or unreadable since the policy loaded it: show what was parsed
    fields = {"name": ruleset.name, "thresholds": ruleset.thresholds, "rules": ruleset.rules}
    return msgspec.yaml.encode(fields).decode()


async def _alerts(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    alerts = await reads_of(request).findings(FindingFilter(categories=["ImageScan"], limit=console.max_rows))
    return page(request, "alerts.html", alerts=alerts)


async def _advisories(request: web.Request) -> web.StreamResponse:
    return page(request, "advisories.html", build=await advisory_status(request.app[CONSOLE].reads))


async def _audit(request: web.Request) -> web.StreamResponse:
    entries = await request.app[ACCESS].audit.entries(limit=500)
    return page(request, "audit.html", entries=entries)


def add_pages(app: web.Application, wrap: Any) -> None:
    """Mount these pages (``wrap``: the console's guard: headers, 400/503 pages)."""
    get = app.router.add_get
    app.router.add_post("/console/images/{digest}/rescan", wrap(_rescan))
    get("/console/rulesets", wrap(_rulesets), allow_head=False)
    get("/console/alerts", wrap(_alerts), allow_head=False)
    get("/console/advisories", wrap(_advisories), allow_head=False)
    get("/console/audit", wrap(_audit), allow_head=False)
