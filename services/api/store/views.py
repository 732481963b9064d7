"""What the read API returns and takes: image and finding views, their filters, workloads.

``FindingView`` is the wire ``Finding`` plus what the store knows about it (image, lifecycle
state, first and last seen, environments, workloads): it extends ``schemas.records.Finding``, so a
field added to the finding appears in the API without a second copy to keep in step.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from schemas.records import Finding
from schemas.vocabulary import ImageStatus, LifecycleState, ScanReason

__all__ = [
    "FindingFilter",
    "FindingView",
    "ImageFilter",
    "ImageLocation",
    "ImageView",
    "Workload",
    "WorkloadImage",
]


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
    without its version. ``text``: a case-insensitive substring of the id, title, description,
    package, finding id or image reference. ``after``: (severity rank, finding id) of the previous
    page's last row.
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
    status: ImageStatus
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
    request_reason: ScanReason | Literal[""] = ""  # new, analyzer-changed, requested, retry ("": never)
    scan_generation: int = 0  # scans requested so far (a rescan is the next generation)
    size_bytes: int = 0  # as inventory reported it (0: unknown)


class Workload(msgspec.Struct, frozen=True, kw_only=True):
    """A workload running an image: cluster, namespace, kind and name, container and pod count."""

    cluster: str  # the environment without its "cluster:" prefix
    namespace: str
    kind: str
    name: str
    container: str = ""
    repository: str = ""
    pod_count: int = 0  # Running pods using the image (0: not reported)
    last_seen: str | None = None


class WorkloadImage(msgspec.Struct, frozen=True, kw_only=True):
    """An image a workload runs, with its scan status."""

    digest: str
    image_ref: str | None = None
    status: ImageStatus = "pending"
    container: str = ""
    repository: str = ""
    pod_count: int = 0
    last_seen: str | None = None


class FindingView(Finding, frozen=True, kw_only=True, omit_defaults=False):
    """A stored finding with its image, lifecycle state and the environments holding its image."""

    digest: str
    state: LifecycleState = "new"
    first_seen: str | None = None
    last_seen: str | None = None
    image_ref: str | None = None
    environments: list[str] = []
    workloads: list[Workload] = []  # the cluster workloads running its image
