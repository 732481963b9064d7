"""The one registry of pipeline services: ``assay service NAME``, ``assay up`` and the chart's commands.

Each entry names the service's entry module, imported only when that service runs; the module
holds ``NEEDS`` (what the lifespan opens) and ``run(resources, stop)``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SERVICES", "ServiceEntry"]


@dataclass(frozen=True)
class ServiceEntry:
    """One service: the module holding its ``NEEDS`` and ``run(resources, stop)``, imported on use."""

    module: str
    summary: str


# the one registry of services: ``assay service NAME``, ``assay up`` and the chart's commands
SERVICES: dict[str, ServiceEntry] = {
    "inventory": ServiceEntry("services.inventory.main", "registry crawl, clusters, ECR/ECS, notifications"),
    "dedupe": ServiceEntry("services.dedupe.main", "claims sightings, requests due scans"),
    "engine": ServiceEntry("services.engine.main", "scans requested images"),
    "policy": ServiceEntry("services.policy.main", "evaluates scans, finding lifecycle, rematch"),
    "api": ServiceEntry("services.api.main", "the read API and console"),
    "node": ServiceEntry("services.node.main", "one per Kubernetes node: its images over CRI"),
    "updater": ServiceEntry("services.updater.main", "builds and announces the advisory database"),
    "harbor": ServiceEntry("services.harbor.main", "Harbor's pluggable scanner adapter"),
    "admission": ServiceEntry("services.admission.main", "the validating admission webhook"),
}
