"""The Grafana dashboard (deploy/grafana/assay.json) only charts series Assay exports."""

from __future__ import annotations

import json
import re

from services.common.metrics import Metrics
from tests.harness.requirements import REPO

_NAME = re.compile(r"\bassay_[a-z_]+\b")


def _exported() -> set[str]:
    """Every series name the metrics registry can export (labelled families have no samples yet)."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    names: set[str] = set()
    for family in Metrics("test").registry.collect():
        names |= {family.name + suffix for suffix in suffixes[family.type]}
    return names


def test_every_query_of_the_dashboard_names_an_exported_series() -> None:
    dashboard = json.loads((REPO / "deploy" / "grafana" / "assay.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in _NAME.findall(expr)}
    assert len(dashboard["panels"]) >= 10
    assert len(used) >= 10
    exported = _exported()
    missing = sorted(used - exported)
    assert not missing, f"the dashboard queries series nobody exports: {missing}"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
