"""Topic names: the only place they are spelled out."""

from typing import Final


class Topics:
    """Kafka topic names, versioned so a breaking change gets a new topic."""

    INVENTORY: Final = "assay.inventory.v1"
    SCAN_REQUESTS: Final = "assay.scan-requests.v1"
    DETECTIONS: Final = "assay.detections.v1"
    FINDINGS: Final = "assay.findings.v1"
    ALERTS: Final = "assay.alerts.v1"
    DLQ: Final = "assay.dlq.v1"
    ADVISORIES: Final = "assay.advisories.v1"  # new advisory database builds (the updater)


ALL_TOPICS: Final[tuple[str, ...]] = (
    Topics.INVENTORY,
    Topics.SCAN_REQUESTS,
    Topics.DETECTIONS,
    Topics.FINDINGS,
    Topics.ALERTS,
    Topics.DLQ,
    Topics.ADVISORIES,
)
