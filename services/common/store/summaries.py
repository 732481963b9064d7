"""SQL fragments the read model shares: severity rank, an image's finding counts, a finding's workloads."""

from __future__ import annotations

from typing import Final

__all__ = ["ACTIVE", "COUNTS", "RANK", "RULESET_COUNTS", "WORKLOADS"]

# Most severe first (0) to UNKNOWN (4), for a findings row aliased ``f``.
RANK: Final = """(CASE upper(f.severity) WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2
     WHEN 'LOW' THEN 3 ELSE 4 END)"""

# An image's counts cover its current findings only: not resolved, not suppressed by a ruleset.
ACTIVE: Final = "f.digest = i.digest AND f.state <> 'resolved' AND f.suppression = ''"
# Each problem once, whatever number of rulesets evaluated it (at its most severe rating) ...
COUNTS: Final = f"""COALESCE((SELECT json_object_agg(s.severity, s.n) FROM (
        SELECT d.severity, count(*) AS n FROM (
            SELECT DISTINCT ON (f.category, f.vuln_id, f.purl, f.path) upper(f.severity) AS severity
            FROM findings f WHERE {ACTIVE}
            ORDER BY f.category, f.vuln_id, f.purl, f.path, {RANK}) d
        GROUP BY 1) s), '{{}}'::json)"""
# ... and per ruleset, as each ruleset rated them (what its thresholds count).
RULESET_COUNTS: Final = f"""COALESCE((SELECT json_object_agg(r.ruleset, r.counts) FROM (
        SELECT x.ruleset, json_object_agg(x.severity, x.n) AS counts FROM (
            SELECT f.ruleset, upper(f.severity) AS severity, count(*) AS n
            FROM findings f WHERE {ACTIVE} GROUP BY 1, 2) x
        GROUP BY x.ruleset) r), '{{}}'::json)"""

# The cluster workloads running a finding's image (``store/workloads.py``), as ``Workload`` objects.
WORKLOADS: Final = """COALESCE((SELECT json_agg(json_build_object(
        'cluster', substr(w.environment, 9), 'namespace', w.namespace, 'kind', w.workload_kind,
        'name', w.workload, 'container', w.container, 'repository', w.repository, 'pod_count', w.pod_count)
        ORDER BY w.environment, w.namespace, w.workload_kind, w.workload, w.container)
    FROM image_workloads w WHERE w.digest = f.digest), '[]'::json)"""
