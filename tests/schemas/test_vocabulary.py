"""The wire vocabulary: values outside it are refused on decode, and the severity order has one home."""

from __future__ import annotations

import json
from typing import Any, get_args

import msgspec
import pytest

from schemas import decode_event, encode_event
from schemas.topics import Topics
from schemas.vocabulary import (
    SEVERITIES,
    Severity,
    as_severity,
    severity_rank,
    severity_rank_sql,
)
from tests.schemas.samples import SAMPLES


def _sample(tag: str) -> dict[str, Any]:
    event = next(s for s in SAMPLES if s.__struct_config__.tag == tag)
    decoded: dict[str, Any] = json.loads(encode_event(event))
    return decoded


@pytest.mark.parametrize(
    ("topic", "tag", "path", "bad"),
    [
        (Topics.FINDINGS, "finding", ("finding", "severity"), "SEVERE"),
        (Topics.FINDINGS, "finding", ("finding", "category"), "Malware"),
        (Topics.FINDINGS, "finding", ("finding", "fix_state"), "maybe"),
        (Topics.FINDINGS, "finding", ("state",), "reopened"),
        (Topics.SCAN_REQUESTS, "scan.requested", ("reason",), "whim"),
        (Topics.DETECTIONS, "scan.skipped", ("status",), "sideways"),
        (Topics.DETECTIONS, "scan.completed", ("matches", 0, "severity"), "high"),
        (Topics.DETECTIONS, "scan.completed", ("detections", 0, "category"), "Malware"),
        (Topics.DETECTIONS, "scan.completed", ("gaps", 0, "kind"), "gone-fishing"),
    ],
)
def test_a_value_outside_the_vocabulary_is_refused_on_decode(
    topic: str, tag: str, path: tuple[str | int, ...], bad: str
) -> None:
    payload = _sample(tag)
    node: Any = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad
    with pytest.raises(msgspec.ValidationError, match="Invalid enum value"):
        decode_event(topic, json.dumps(payload).encode())


def test_every_wire_severity_ranks_and_none_ranks_with_unknown() -> None:
    assert [severity_rank(s) for s in SEVERITIES] == list(range(len(SEVERITIES)))
    assert severity_rank("NONE") == severity_rank("UNKNOWN") == len(SEVERITIES) - 1
    assert severity_rank("high") == 1  # case-insensitive, as the SQL compares upper(...)
    assert severity_rank("bogus") == len(SEVERITIES) - 1
    assert set(get_args(Severity)) == {*SEVERITIES, "NONE"}


def test_the_sql_rank_is_generated_from_the_same_order() -> None:
    sql = severity_rank_sql("f.severity")
    assert sql == (
        "(CASE upper(f.severity) WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2"
        " WHEN 'LOW' THEN 3 ELSE 4 END)"
    )


def test_as_severity_names_the_allowed_values() -> None:
    assert as_severity("LOW") == "LOW"
    with pytest.raises(ValueError, match="'SEVERE' is not one of CRITICAL, HIGH"):
        as_severity("SEVERE")
