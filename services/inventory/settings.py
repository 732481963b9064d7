"""Inventory's settings: the crawl interval, watched clusters, and registry notifications."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.common.hostport import OptionalHostPort


class CrawlSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``ASSAY_CRAWL_INTERVAL_S``: how often registries, ECR and ECS are crawled again;
    ``ASSAY_CRAWL_FULL_EVERY``: every how many crawls everything is published again."""

    interval_s: Annotated[float, msgspec.Meta(gt=0)] = 300.0
    # every this many crawls every sighting is published again, changed or not (between them only
    # changes are): last_seen stays fresh, and dedupe rescans after an analyzer upgrade
    full_every: Annotated[int, msgspec.Meta(ge=1)] = 12


class ClusterConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A Kubernetes cluster whose running pods inventory watches (``services/inventory/kubernetes``)."""

    name: str  # the environment is "cluster:<name>"
    kubeconfig: str = ""  # a kubeconfig file; empty: the in-cluster service account
    context: str = ""  # a context of that kubeconfig; empty: its current-context
    namespaces: list[str] = []  # watch only these (empty: all namespaces)
    resync_interval_s: float = 600.0  # full re-list and diff, whatever the watch says
    page_size: int = 500  # list chunk size (``limit``/``continue``)
    backoff_initial_s: float = 0.5  # reconnect delay, doubled per failure, with full jitter
    backoff_max_s: float = 30.0
    # read ReplicaSets/Jobs to find their Deployment/CronJob (needs RBAC ``get`` on them); off: name-based
    owner_lookups: bool = False
    ou: str = ""  # the organisational unit owning this cluster's workloads (``ImageDiscovered.ou``)


class WebhooksConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Registry notifications to inventory (services/inventory/webhooks/): ``ASSAY_WEBHOOKS_<FIELD>``."""

    listen: OptionalHostPort = ""  # HOST:PORT inventory receives notifications on; "" = push off (crawl only)
    token: str = ""  # senders must present it (Authorization: Bearer TOKEN); required when listening
    max_body_bytes: Annotated[int, msgspec.Meta(gt=0)] = 1024 * 1024  # a larger notification is refused


class EnvironmentsSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Environments added at run time (``assay environments``): ``ASSAY_ENVIRONMENTS_<FIELD>``."""

    # how often inventory reads the stored environments (an added cluster is watched within this)
    poll_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0
