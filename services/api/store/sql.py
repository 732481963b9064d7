"""The read model's SQL: one filtered, keyset-paginated statement for images and one for findings.

Environments and organisational units: a finding belongs to every environment its image was
seen in (``image_environments``) as well as to the environment the policy service recorded on it.
An OU filter matches images with a sighting whose ``image_environments.ou`` is one of the OUs
(inventory fills it from the registry's or cluster's ``ou`` setting); findings are per digest, so a
finding belongs to every OU its image was seen in.

A caller limited to some environments (``services/api/scope.py``) passes them resolved as
``visible``: the statements then select only images seen there (and findings of them, or recorded
there) and show only those locations, environments and workloads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from schemas.vocabulary import SEVERITIES, severity_rank_sql
from services.api.store.views import FindingFilter, ImageFilter

__all__ = ["finding_sql", "image_sql"]

# Most severe first (0) to UNKNOWN, for a findings row aliased ``f``.
RANK: Final = severity_rank_sql("f.severity")

# An image's counts cover its current findings only: not resolved, not suppressed by a ruleset.
_ACTIVE: Final = "f.digest = i.digest AND f.state <> 'resolved' AND f.suppression = ''"
# Each problem once, whatever number of rulesets evaluated it (at its most severe rating) ...
_COUNTS: Final = f"""COALESCE((SELECT json_object_agg(s.severity, s.n) FROM (
        SELECT d.severity, count(*) AS n FROM (
            SELECT DISTINCT ON (f.category, f.vuln_id, f.purl, f.path) upper(f.severity) AS severity
            FROM findings f WHERE {_ACTIVE}
            ORDER BY f.category, f.vuln_id, f.purl, f.path, {RANK}) d
        GROUP BY 1) s), '{{}}'::json)"""
# ... and per ruleset, as each ruleset rated them (what its thresholds count).
_RULESET_COUNTS: Final = f"""COALESCE((SELECT json_object_agg(r.ruleset, r.counts) FROM (
        SELECT x.ruleset, json_object_agg(x.severity, x.n) AS counts FROM (
            SELECT f.ruleset, upper(f.severity) AS severity, count(*) AS n
            FROM findings f WHERE {_ACTIVE} GROUP BY 1, 2) x
        GROUP BY x.ruleset) r), '{{}}'::json)"""


def _workloads(only: str) -> str:
    """The cluster workloads running a finding's image, as ``Workload`` objects; ``only``: more conditions."""
    return f"""COALESCE((SELECT json_agg(json_build_object(
        'cluster', substr(w.environment, 9), 'namespace', w.namespace, 'kind', w.workload_kind,
        'name', w.workload, 'container', w.container, 'repository', w.repository, 'pod_count', w.pod_count)
        ORDER BY w.environment, w.namespace, w.workload_kind, w.workload, w.container)
    FROM image_workloads w WHERE w.digest = f.digest{only}), '[]'::json)"""


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


def _within(w: _Where, visible: Sequence[str] | None) -> Callable[[str], str]:
    """A maker of ``column = ANY(visible)`` conditions; with ``visible`` None, of "" (no condition)."""
    if visible is None:
        return lambda _column: ""
    p = w.param(list(visible))
    return lambda column: f"{column} = ANY({p}::text[])"


def image_sql(flt: ImageFilter, visible: Sequence[str] | None = None) -> tuple[str, list[Any]]:
    """The statement listing the images ``flt`` selects, and its parameters.

    ``visible``: the environments a limited caller may see (``Scope``, resolved by ``Reads``):
    only images seen there are listed, with only those locations. None: every environment.
    """
    w = _Where()
    within = _within(w, visible)
    if visible is not None:
        w.add(_linked("i.digest", within("e.environment")))
    shown = f" AND {within('e.environment')}" if visible is not None else ""
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
                     FROM image_environments e WHERE e.digest = i.digest{shown}),
                    '[]'::json) AS locations,
           {_COUNTS} AS counts, {_RULESET_COUNTS} AS ruleset_counts
    FROM images i
    {w.sql()}
    ORDER BY i.digest
    LIMIT {limit}
    """
    return sql, w.args


def _finding_where(flt: FindingFilter, w: _Where, within: Callable[[str], str]) -> None:
    if scoped := within("e.environment"):  # its own environment, or one its image was seen in
        w.add(f"({within('f.environment')} OR {_linked('f.digest', scoped)})")
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
        columns = ("f.vuln_id", "f.title", "f.description", "f.package_name", "f.finding_id", "i.image_ref")
        w.add("(" + " OR ".join(f"{c} ILIKE {p} ESCAPE '\\'" for c in columns) + ")")
    if flt.after is not None:
        rank, last_id = flt.after
        w.add(f"({RANK}, f.finding_id) > ({w.param(rank)}::int, {w.param(last_id)}::text)")


def finding_sql(flt: FindingFilter, visible: Sequence[str] | None = None) -> tuple[str, list[Any]]:
    """The statement listing the findings ``flt`` selects, most severe first, and its parameters.

    ``visible``: as for ``image_sql``; a finding is listed when its own environment or one its image
    was seen in is visible, with only the visible environments and workloads (its own environment
    is blanked when it is not one of them).
    """
    w = _Where()
    within = _within(w, visible)
    _finding_where(flt, w, within)
    own, shown, workloads = "f.environment", "", _workloads("")
    if visible is not None:
        own = f"CASE WHEN {within('f.environment')} THEN f.environment ELSE '' END"
        shown = f" AND {within('e.environment')}"
        workloads = _workloads(f" AND {within('w.environment')}")
    limit = w.param(flt.limit)
    sql = f"""
    SELECT f.finding_id, f.digest, f.category, f.vuln_id, f.severity, f.title, f.description,
           f.package_name, f.purl, f.installed_version, f.fixed_version, f.layer_digest,
           {own} AS environment, f.ruleset, f.state, f.first_seen, f.last_seen, i.image_ref,
           f.fix_state, f.known_exploited, f.cvss_score, f.cvss_vector, f.severity_source, f.epss,
           f.path, f.evidence, f.deleted, f.suppression, f.policy_rule,
           COALESCE((SELECT array_agg(DISTINCT e.environment ORDER BY e.environment)
                     FROM image_environments e WHERE e.digest = f.digest{shown}), '{{}}') AS environments,
           {workloads} AS workloads,
           {RANK} AS severity_rank
    FROM findings f LEFT JOIN images i ON i.digest = f.digest
    {w.sql()}
    ORDER BY severity_rank, f.finding_id
    LIMIT {limit}
    """
    return sql, w.args
