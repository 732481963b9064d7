"""Encoders and decoders, built once, one decoder per topic union."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from schemas.events import (
    AdvisoryBuildPublished,
    Alert,
    ContentBundlePublished,
    DeadLetter,
    Event,
    FindingEvent,
    ImageDiscovered,
    ImageRemoved,
    ScanCompleted,
    ScanFailed,
    ScanRequested,
    ScanSkipped,
)
from schemas.topics import Topics

_ENCODER: Final = msgspec.json.Encoder()

_DECODERS: Final[dict[str, msgspec.json.Decoder[Any]]] = {
    Topics.INVENTORY: msgspec.json.Decoder(ImageDiscovered | ImageRemoved),
    Topics.SCAN_REQUESTS: msgspec.json.Decoder(ScanRequested),
    Topics.DETECTIONS: msgspec.json.Decoder(ScanCompleted | ScanFailed | ScanSkipped),
    Topics.FINDINGS: msgspec.json.Decoder(FindingEvent),
    Topics.ALERTS: msgspec.json.Decoder(Alert),
    Topics.DLQ: msgspec.json.Decoder(DeadLetter),
    Topics.ADVISORIES: msgspec.json.Decoder(AdvisoryBuildPublished | ContentBundlePublished),
}


def encode_event(event: Event) -> bytes:
    """Serialise an event to its JSON wire form."""
    return _ENCODER.encode(event)


def topic_decoder(topic: str) -> msgspec.json.Decoder[Any]:
    """The decoder for a topic's union of events; KeyError for a topic Assay does not own."""
    return _DECODERS[topic]


def decode_event(topic: str, payload: bytes) -> Event:
    """Decode a payload read from ``topic``; raises msgspec.ValidationError on a bad payload."""
    event: Event = _DECODERS[topic].decode(payload)
    return event
