"""Read-side queries over the store: filtered, keyset-paginated images and findings.

Used by the read API (``services/api``) and the ``assay images`` / ``assay findings`` commands.
Every query is one read-only statement. Pages are ordered by a unique key and continued from the
last row's key (keyset pagination), so concurrent inserts never make a page repeat or skip a row
that was there before the first page was read.

Environments and organisational units: a finding belongs to every environment its image was
seen in (``image_environments``) as well as to the environment the policy service recorded on it.
An OU filter matches images with a sighting whose ``image_environments.ou`` is one of the OUs
(inventory fills it from the registry's or cluster's ``ou`` setting); findings are per digest, so a
finding belongs to every OU its image was seen in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import msgspec

from services.common.store._errors import translated
from services.common.store.summaries import COUNTS, RANK, RULESET_COUNTS, WORKLOADS
from services.common.store.workloads import Workload

__all__ = [
    "SEVERITIES",
    "FindingFilter",
    "FindingView",
    "ImageFilter",
    "ImageLocation",
    "ImageView",
    "Reads",
    "severity_rank",
]

# Most severe first; a finding's rank is its index (unknown spellings rank with UNKNOWN).
SEVERITIES: Final[tuple[str, ...]] = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")


class ImageFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which images to list; empty lists match everything. ``after``: the last digest of the previous page."""

    digests: list[str] = []
    environments: list[str] = []
    ous: list[str] = []
    statuses: list[str] = []
    repositories: list[str] = []
    after: str | None = None
    limit: int = 100


class FindingFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which findings to list; empty lists match everything.

    ``min_severity``: this severity or worse. ``packages``: a package name, or a purl with or
    without its version. ``text``: a case-insensitive substring of the id, title, package or
    finding id. ``after``: (severity rank, finding id) of the previous page's last row.
    """

    finding_ids: list[str] = []
    environments: list[str] = []
    ous: list[str] = []
    min_severity: str | None = None
    rulesets: list[str] = []
    categories: list[str] = []
    digests: list[str] = []
    packages: list[str] = []
    states: list[str] = []
    text: str | None = None
    after: tuple[int, str] | None = None
    limit: int = 100


class ImageLocation(msgspec.Struct, frozen=True, kw_only=True):
    """Where an image was seen: an environment, repository and tag."""

    environment: str
    repository: str
    tag: str = ""
    last_seen: str | None = None
    ou: str = ""  # the organisational unit of that environment ("" = none configured)


class ImageView(msgspec.Struct, frozen=True, kw_only=True):
    """One image with its scan status, where it runs and how many findings of each severity it has.

    ``status``: pending (Pending Scan: requested, or seen only where it cannot be pulled), scanning,
    scanned, failed (``error`` says why) or too_large (``error`` gives the size and the limit).
    """

    digest: str
    image_ref: str | None
    status: str
    error: str | None = None
    scan_id: str | None = None
    first_seen: str | None = None
    updated_at: str | None = None
    scanned_at: str | None = None
    environments: list[str] = []
    ous: list[str] = []  # the organisational units of those environments
    locations: list[ImageLocation] = []
    # current findings by severity: not resolved, not suppressed, each counted once across rulesets
    finding_counts: dict[str, int] = {}
    ruleset_counts: dict[str, dict[str, int]] = {}  # the same, per ruleset (as each rated them)
    scannable: bool = True  # false while every sighting was unscannable (ECS Fargate): never requested
    requested_at: str | None = None  # when the current scan was requested
    request_reason: str = ""  # new, analyzer-changed, requested, retry
    scan_generation: int = 0  # scans requested so far (a rescan is the next generation)
    size_bytes: int = 0  # as inventory reported it (0: unknown)


class FindingView(msgspec.Struct, frozen=True, kw_only=True):
    """A stored finding with its image, lifecycle state and the environments holding its image."""

    finding_id: str
    digest: str
    category: str
    id: str
    severity: str
    title: str
    description: str = ""
    package_name: str = ""
    purl: str = ""
    installed_version: str = ""
    fixed_version: str = ""
    layer_digest: str = ""
    environment: str = ""
    ruleset: str = "default"
    state: str = "new"
    fix_state: str = ""  # CVE: fixed, not-fixed, wont-fix
    known_exploited: bool = False  # CVE: in CISA's KEV catalog
    cvss_score: float = 0.0
    path: str = ""  # content detections: the file ("" for the image config)
    evidence: str = ""  # content detections: redacted (a prefix plus a hash), never a secret
    suppression: str = ""  # why a ruleset suppressed it ("" = active)
    policy_rule: str = ""  # the ruleset rule that last acted on it
    first_seen: str | None = None
    last_seen: str | None = None
    image_ref: str | None = None
    environments: list[str] = []
    workloads: list[Workload] = []  # the cluster workloads running its image (store/workloads.py)


def severity_rank(severity: str) -> int:
    """A severity's place in ``SEVERITIES`` (0: CRITICAL); unknown spellings rank with UNKNOWN."""
    upper = severity.upper()
    return SEVERITIES.index(upper) if upper in SEVERITIES else len(SEVERITIES) - 1


class _Where:
    """WHERE clauses with numbered parameters, built together so numbers and values stay in step."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.args: list[Any] = []

    def param(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, clause: str) -> None:
        self.clauses.append(clause)

    def sql(self) -> str:
        return "WHERE " + " AND ".join(self.clauses) if self.clauses else ""


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _linked(digest: str, clause: str) -> str:
    """Some environment link (``e``) of the image whose digest column is ``digest`` satisfies ``clause``."""
    return f"EXISTS (SELECT 1 FROM image_environments e WHERE e.digest = {digest} AND {clause})"


def _image_sql(flt: ImageFilter) -> tuple[str, list[Any]]:
    w = _Where()
    if flt.digests:
        w.add(f"i.digest = ANY({w.param(flt.digests)}::text[])")
    if flt.environments:
        w.add(_linked("i.digest", f"e.environment = ANY({w.param(flt.environments)}::text[])"))
    if flt.ous:
        w.add(_linked("i.digest", f"e.ou = ANY({w.param(flt.ous)}::text[])"))
    if flt.statuses:
        w.add(f"i.status = ANY({w.param(flt.statuses)}::text[])")
    if flt.repositories:
        w.add(_linked("i.digest", f"e.repository = ANY({w.param(flt.repositories)}::text[])"))
    if flt.after is not None:
        w.add(f"i.digest > {w.param(flt.after)}")
    limit = w.param(flt.limit)
    sql = f"""
    SELECT i.digest, i.image_ref, i.status, i.error, i.scan_id, i.first_seen, i.updated_at, i.scanned_at,
           i.scannable, i.requested_at, i.request_reason, i.scan_generation, i.size_bytes,
           COALESCE((SELECT json_agg(json_build_object('environment', e.environment,
                                                       'repository', e.repository,
                                                       'tag', e.tag,
                                                       'last_seen', e.last_seen,
                                                       'ou', e.ou)
                                     ORDER BY e.environment, e.repository, e.tag)
                     FROM image_environments e WHERE e.digest = i.digest), '[]'::json) AS locations,
           {COUNTS} AS counts, {RULESET_COUNTS} AS ruleset_counts
    FROM images i
    {w.sql()}
    ORDER BY i.digest
    LIMIT {limit}
    """
    return sql, w.args


def _finding_sql(flt: FindingFilter) -> tuple[str, list[Any]]:
    w = _Where()
    if flt.finding_ids:
        w.add(f"f.finding_id = ANY({w.param(flt.finding_ids)}::text[])")
    if flt.environments:
        p = w.param(flt.environments)
        linked = _linked("f.digest", f"e.environment = ANY({p}::text[])")
        w.add(f"(f.environment = ANY({p}::text[]) OR {linked})")
    if flt.ous:
        w.add(_linked("f.digest", f"e.ou = ANY({w.param(flt.ous)}::text[])"))
    if flt.min_severity is not None:
        w.add(f"{RANK} <= {w.param(SEVERITIES.index(flt.min_severity.upper()))}")
    if flt.rulesets:
        w.add(f"f.ruleset = ANY({w.param(flt.rulesets)}::text[])")
    if flt.categories:
        w.add(f"f.category = ANY({w.param(flt.categories)}::text[])")
    if flt.digests:
        w.add(f"f.digest = ANY({w.param(flt.digests)}::text[])")
    if flt.states:
        w.add(f"f.state = ANY({w.param(flt.states)}::text[])")
    else:  # current findings only, unless resolved ones are asked for by state
        w.add("f.state <> 'resolved'")
    if flt.packages:
        p = w.param(flt.packages)
        w.add(
            f"(f.package_name = ANY({p}::text[]) OR f.purl = ANY({p}::text[])"
            f" OR EXISTS (SELECT 1 FROM unnest({p}::text[]) pk WHERE starts_with(f.purl, pk || '@')))"
        )
    if flt.text:
        p = w.param(f"%{_like_escape(flt.text)}%")
        w.add(
            "("
            + " OR ".join(
                f"f.{c} ILIKE {p} ESCAPE '\\'" for c in ("vuln_id", "title", "package_name", "finding_id")
            )
            + ")"
        )
    if flt.after is not None:
        rank, last_id = flt.after
        w.add(f"({RANK}, f.finding_id) > ({w.param(rank)}::int, {w.param(last_id)}::text)")
    limit = w.param(flt.limit)
    sql = f"""
    SELECT f.finding_id, f.digest, f.category, f.vuln_id, f.severity, f.title, f.description,
           f.package_name, f.purl, f.installed_version, f.fixed_version, f.layer_digest,
           f.environment, f.ruleset, f.state, f.first_seen, f.last_seen, i.image_ref,
           f.fix_state, f.known_exploited, f.cvss_score, f.path, f.evidence, f.suppression, f.policy_rule,
           COALESCE((SELECT array_agg(DISTINCT e.environment ORDER BY e.environment)
                     FROM image_environments e WHERE e.digest = f.digest), '{{}}') AS environments,
           {WORKLOADS} AS workloads,
           {RANK} AS severity_rank
    FROM findings f LEFT JOIN images i ON i.digest = f.digest
    {w.sql()}
    ORDER BY severity_rank, f.finding_id
    LIMIT {limit}
    """
    return sql, w.args


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _image_row(r: Any) -> ImageView:
    locations = msgspec.json.decode(r["locations"], type=list[ImageLocation])
    return ImageView(
        digest=r["digest"],
        image_ref=r["image_ref"],
        status=r["status"],
        error=r["error"],
        scan_id=r["scan_id"],
        first_seen=_iso(r["first_seen"]),
        updated_at=_iso(r["updated_at"]),
        scanned_at=_iso(r["scanned_at"]),
        environments=sorted({loc.environment for loc in locations}),
        ous=sorted({loc.ou for loc in locations if loc.ou}),
        locations=locations,
        finding_counts=msgspec.json.decode(r["counts"], type=dict[str, int]),
        ruleset_counts=msgspec.json.decode(r["ruleset_counts"], type=dict[str, dict[str, int]]),
        scannable=r["scannable"],
        requested_at=_iso(r["requested_at"]),
        request_reason=r["request_reason"],
        scan_generation=r["scan_generation"],
        size_bytes=r["size_bytes"],
    )


def _finding_row(r: Any) -> FindingView:
    return FindingView(
        finding_id=r["finding_id"],
        digest=r["digest"],
        category=r["category"],
        id=r["vuln_id"],
        severity=r["severity"],
        title=r["title"],
        description=r["description"],
        package_name=r["package_name"],
        purl=r["purl"],
        installed_version=r["installed_version"],
        fixed_version=r["fixed_version"],
        layer_digest=r["layer_digest"],
        environment=r["environment"],
        ruleset=r["ruleset"],
        state=r["state"],
        fix_state=r["fix_state"],
        known_exploited=r["known_exploited"],
        cvss_score=r["cvss_score"],
        path=r["path"],
        evidence=r["evidence"],
        suppression=r["suppression"],
        policy_rule=r["policy_rule"],
        first_seen=_iso(r["first_seen"]),
        last_seen=_iso(r["last_seen"]),
        image_ref=r["image_ref"],
        workloads=msgspec.json.decode(r["workloads"], type=list[Workload]),
        environments=list(r["environments"]),
    )


class Reads:
    """Read-only queries on an asyncpg pool; get one from ``Store.reads``."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @property
    def pool(self) -> Any:
        """The asyncpg pool, for the API's other routes (``services/api/links.py``)."""
        return self._pool

    async def ping(self) -> None:
        """Raise ``StoreError`` unless PostgreSQL answers."""
        with translated("reach PostgreSQL"):
            await self._pool.fetchval("SELECT 1")

    async def images(self, flt: ImageFilter) -> list[ImageView]:
        """Up to ``flt.limit`` images matching ``flt``, by digest, after ``flt.after``."""
        sql, args = _image_sql(flt)
        with translated("list images"):
            records = await self._pool.fetch(sql, *args)
        return [_image_row(r) for r in records]

    async def image(self, digest: str) -> ImageView | None:
        """One image by manifest digest, or None."""
        sql, args = _image_sql(ImageFilter(digests=[digest], limit=1))
        with translated(f"read image {digest}"):
            records = await self._pool.fetch(sql, *args)
        return _image_row(records[0]) if records else None

    async def findings(self, flt: FindingFilter) -> list[FindingView]:
        """Up to ``flt.limit`` findings matching ``flt``, most severe first, then by finding id."""
        if flt.min_severity is not None and flt.min_severity.upper() not in SEVERITIES:
            raise ValueError(f"unknown severity {flt.min_severity!r} (one of {', '.join(SEVERITIES)})")
        sql, args = _finding_sql(flt)
        with translated("list findings"):
            records = await self._pool.fetch(sql, *args)
        return [_finding_row(r) for r in records]

    async def finding(self, finding_id: str) -> FindingView | None:
        """One finding by its stable id, or None."""
        sql, args = _finding_sql(FindingFilter(finding_ids=[finding_id], limit=1))
        with translated(f"read finding {finding_id}"):
            records = await self._pool.fetch(sql, *args)
        return _finding_row(records[0]) if records else None
