"""Wire types of Assay: every event on every topic is a msgspec Struct defined here.

Evolution rules (tested in ``tests/schemas``): new fields get defaults, no field
changes type, no tag is reused, and golden payloads from older versions still decode.
"""

from schemas.codec import decode_event, encode_event, topic_decoder
from schemas.events import (
    AdvisoryBuildPublished,
    AdvisoryEvent,
    Alert,
    ContentBundlePublished,
    DeadLetter,
    DetectionEvent,
    Event,
    FindingEvent,
    ImageDiscovered,
    ImageRemoved,
    InventoryEvent,
    ScanCompleted,
    ScanFailed,
    ScanRequested,
    ScanSkipped,
)
from schemas.records import (
    CoverageGap,
    Detection,
    Distro,
    Finding,
    ImageInfo,
    LayerInfo,
    PackageRecord,
    Unknown,
    VulnMatch,
)
from schemas.topics import ALL_TOPICS, Topics

__all__ = [
    "ALL_TOPICS",
    "AdvisoryBuildPublished",
    "AdvisoryEvent",
    "Alert",
    "ContentBundlePublished",
    "CoverageGap",
    "DeadLetter",
    "Detection",
    "DetectionEvent",
    "Distro",
    "Event",
    "Finding",
    "FindingEvent",
    "ImageDiscovered",
    "ImageInfo",
    "ImageRemoved",
    "InventoryEvent",
    "LayerInfo",
    "PackageRecord",
    "ScanCompleted",
    "ScanFailed",
    "ScanRequested",
    "ScanSkipped",
    "Topics",
    "Unknown",
    "VulnMatch",
    "decode_event",
    "encode_event",
    "topic_decoder",
]
