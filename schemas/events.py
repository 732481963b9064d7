"""Events: one tagged union per topic.

Every event is a frozen, keyword-only msgspec Struct with a ``type`` tag. Tags are
never reused; new fields always get defaults.
"""

from __future__ import annotations

import msgspec

from schemas.records import CoverageGap, Detection, Finding, ImageInfo, PackageRecord, Unknown, VulnMatch
from schemas.vocabulary import BundleKind, ImageStatus, LifecycleState, ScanReason


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", omit_defaults=True):
    """Base of every event on the bus."""


class ImageDiscovered(Event, frozen=True, tag="image.discovered"):
    """Inventory saw an image in an environment (a registry or a cluster)."""

    environment: str  # e.g. "registry:127.0.0.1:5000" or "cluster:prod-eu"
    registry: str
    repository: str
    digest: str  # manifest digest: the identity of the image
    tag: str = ""
    discovered_at: str = ""  # RFC 3339
    size_bytes: int = 0
    # where in a cluster the image runs (empty for registries): the pod's controlling workload,
    # resolved through ReplicaSet -> Deployment and Job -> CronJob
    namespace: str = ""
    workload_kind: str = ""  # Deployment, StatefulSet, DaemonSet, CronJob, Job, ReplicaSet, Pod, ...
    workload: str = ""  # the workload's name
    container: str = ""  # the pod spec's container (or init container) running the image
    pod_count: int = 0  # Running pods of the workload using the image (0: not reported)
    ou: str = ""  # the organisational unit owning the environment ("" = none configured)
    # False where the image cannot be pulled from here (an ECS Fargate task): the sighting is
    # linked, but the digest stays Pending Scan until the same digest is scanned elsewhere
    scannable: bool = True
    # the image pull secrets the pod names (``spec.imagePullSecrets``) as "namespace/name": references
    # only, never a secret's content; an engine reads those secrets from the cluster when it pulls
    pull_secrets: list[str] = []


class ImageRemoved(Event, frozen=True, tag="image.removed"):
    """Inventory no longer sees an image in an environment: unlink it (the image itself stays).

    A cluster emits it when the last Running pod using ``repository@digest`` goes away.
    """

    environment: str
    digest: str
    repository: str
    registry: str = ""
    removed_at: str = ""  # RFC 3339


InventoryEvent = ImageDiscovered | ImageRemoved


class ScanRequested(Event, frozen=True, tag="scan.requested"):
    """Dedupe asks the engine to scan a digest it has not scanned yet."""

    scan_id: str
    digest: str
    image_ref: str  # registry/repository@digest
    environments: list[str] = []
    requested_at: str = ""
    reason: ScanReason = "new"  # requested: assay rescan
    # the clusters whose engines may scan it (registry <-> cluster links); [] = any engine
    sites: list[str] = []


class ScanCompleted(Event, frozen=True, tag="scan.completed"):
    """The engine's detections for one image: packages, advisory matches and unknowns."""

    scan_id: str
    image: ImageInfo
    packages: list[PackageRecord] = []
    matches: list[VulnMatch] = []
    unknowns: list[Unknown] = []
    detections: list[Detection] = []  # content analyzers: secrets, malware, URLs/IPs, insecure content
    notes: list[str] = []  # things the user should know, coverage gaps included (as text)
    # what the scan could not check, as records; [] from an older engine: read ``notes`` then
    # (services/vulndb/coverage.py ``scan_gaps``)
    gaps: list[CoverageGap] = []
    environments: list[str] = []
    analyzer_version: str = ""
    completed_at: str = ""


class ScanFailed(Event, frozen=True, tag="scan.failed"):
    """The engine could not scan an image: the reason names the image, layer and file where known."""

    scan_id: str
    digest: str
    image_ref: str
    error: str
    failed_at: str = ""


class ScanSkipped(Event, frozen=True, tag="scan.skipped"):
    """The engine did not scan an image on purpose (``status`` ``too_large``: the manifest's layer
    sizes exceed ``max_image_size_mb``; nothing beyond the manifest was pulled)."""

    scan_id: str
    digest: str
    image_ref: str
    status: ImageStatus  # the image status to record: "too_large"
    reason: str
    size_bytes: int = 0
    skipped_at: str = ""


DetectionEvent = ScanCompleted | ScanFailed | ScanSkipped


class FindingEvent(Event, frozen=True, tag="finding"):
    """A finding's lifecycle change, keyed by the finding id (``finding.finding_id``).

    ``state``: ``new`` (first seen, or seen again after being resolved), ``changed`` (severity,
    fix, KEV mark or suppression changed), ``resolved`` (absent from a newer evaluation of the
    same digest and ruleset; ``finding`` is the last stored version), ``unchanged`` (only when
    a redelivered scan is handled again: the findings that scan changed, republished in case the
    first publication was lost; upsert them). ``evaluation`` names the evaluation that caused it
    (the scan id, or ``rematch:<advisory build>``).
    """

    digest: str
    image_ref: str
    finding: Finding
    state: LifecycleState = "new"  # unchanged: on redelivery only
    published_at: str = ""
    evaluation: str = ""


class Alert(Event, frozen=True, tag="alert.threshold"):
    """An image's findings passed a ruleset threshold."""

    digest: str
    image_ref: str
    ruleset: str
    counts: dict[str, int]
    reason: str
    raised_at: str = ""


class AdvisoryBuildPublished(Event, frozen=True, tag="advisory.build"):
    """The updater built and stored a new advisory database: engines and policy switch to it.

    ``object_key`` names the SQLite file in the object store (``advisories/<build_id>/vulndb.sqlite``);
    ``sha256`` is checked after download. ``sources`` lists what it was built from (OSV exports,
    KEV, EPSS), each ``"<kind>:<location>"``.
    """

    build_id: str
    object_key: str
    sha256: str
    built_at: str  # RFC 3339
    size_bytes: int = 0
    sources: list[str] = []
    advisories: int = 0  # advisories the database holds
    published_at: str = ""


class ContentBundlePublished(Event, frozen=True, tag="content.bundle"):
    """The updater stored a new content bundle: engines switch their content analyzers to it.

    ``kind`` says what it carries (threat feeds, YARA rules, a SHA-256 hash list); ``object_key``
    names the bundle in the object store (``content/<kind>/<build_id>/bundle.msgpack``), its
    ``sha256`` is checked after download. ``sources`` lists the files or URLs it was made of and
    ``files`` how many files it holds.
    """

    kind: BundleKind
    build_id: str
    object_key: str
    sha256: str
    built_at: str  # RFC 3339
    size_bytes: int = 0
    sources: list[str] = []
    files: int = 0
    published_at: str = ""


# advisory database builds and content bundles share the topic; payloads of either still decode
AdvisoryEvent = AdvisoryBuildPublished | ContentBundlePublished


class DeadLetter(Event, frozen=True, tag="dead-letter"):
    """A message a service could not handle, with the error; the service moved on."""

    service: str
    topic: str
    partition: int
    offset: int
    key: str
    payload: bytes
    error: str
    failed_at: str = ""
