"""Golden payloads of every released version still decode, round-trip, and tolerate unknown fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from schemas import Event, decode_event, encode_event
from tests.schemas.evolution import (
    GOLDEN,
    TAGS_FILE,
    event_classes,
    golden_payloads,
    load_json,
    tag_of,
)
from tests.schemas.samples import SAMPLES

PAYLOADS = golden_payloads()
_UNKNOWN = {"zz_added_in_a_future_version": {"nested": [1, "two", None], "flag": True}}


def _topic(path: Path) -> str:
    return str(load_json(TAGS_FILE)[path.stem]["topic"])


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_v1_has_one_payload_per_original_event() -> None:
    v1 = {p.stem for p in (GOLDEN / "v1").glob("*.json")}
    assert v1 >= {"image.discovered", "scan.requested", "scan.completed", "scan.failed"}
    assert v1 >= {"finding", "alert.threshold", "dead-letter"}


def test_every_event_has_a_golden_payload() -> None:
    frozen = {p.stem for p in PAYLOADS}
    missing = sorted(tag_of(c) for c in event_classes() if tag_of(c) not in frozen)
    assert not missing, f"no golden payload for {missing}: python -m tests.schemas.regen --payloads vN"


@pytest.mark.parametrize("path", PAYLOADS, ids=_id)
def test_golden_payload_decodes_and_round_trips(path: Path) -> None:
    payload = path.read_bytes()
    event = decode_event(_topic(path), payload)
    assert tag_of(type(event)) == path.stem
    # Every field the old producer wrote survives, and nothing appears that it did not write:
    # fields added since have defaults, which omit_defaults leaves out again.
    assert json.loads(encode_event(event)) == json.loads(payload)
    assert decode_event(_topic(path), encode_event(event)) == event


def _with_unknown_fields(value: Any, t: msgspec.inspect.Type) -> Any:
    """A copy of a decoded-JSON value with an unknown field added to every struct object in it."""
    if isinstance(t, msgspec.inspect.StructType) and isinstance(value, dict):
        out = {**value, **_UNKNOWN}
        for field in t.fields:
            if field.encode_name in value:
                out[field.encode_name] = _with_unknown_fields(value[field.encode_name], field.type)
        return out
    if isinstance(t, msgspec.inspect.ListType) and isinstance(value, list):
        return [_with_unknown_fields(v, t.item_type) for v in value]
    if isinstance(t, msgspec.inspect.DictType) and isinstance(value, dict):
        return {k: _with_unknown_fields(v, t.value_type) for k, v in value.items()}
    if isinstance(t, msgspec.inspect.UnionType):
        for member in t.types:
            if isinstance(member, msgspec.inspect.StructType) and isinstance(value, dict):
                return _with_unknown_fields(value, member)
    return value


@pytest.mark.parametrize("path", PAYLOADS, ids=_id)
def test_unknown_fields_are_ignored(path: Path) -> None:
    """A newer producer may add fields: consumers on this version decode the rest unchanged."""
    original = decode_event(_topic(path), path.read_bytes())
    raw = json.loads(path.read_bytes())
    extended = _with_unknown_fields(raw, msgspec.inspect.type_info(type(original)))
    assert extended != raw
    assert decode_event(_topic(path), json.dumps(extended).encode()) == original


def test_unknown_field_injection_reaches_nested_records() -> None:
    completed = next(s for s in SAMPLES if tag_of(type(s)) == "scan.completed")
    raw = json.loads(encode_event(completed))
    extended = _with_unknown_fields(raw, msgspec.inspect.type_info(type(completed)))
    assert set(_UNKNOWN) <= extended["image"].keys()
    assert set(_UNKNOWN) <= extended["image"]["distro"].keys()
    assert set(_UNKNOWN) <= extended["packages"][0].keys()


def test_samples_cover_every_event_once() -> None:
    tags = [tag_of(type(s)) for s in SAMPLES]
    assert sorted(tags) == sorted(tag_of(c) for c in event_classes())


def _fields_left_at_default(value: Any, where: str) -> list[str]:
    if isinstance(value, msgspec.Struct):
        missing = []
        for f in msgspec.structs.fields(value):
            v = getattr(value, f.name)
            default = f.default if f.default is not msgspec.NODEFAULT else f.default_factory
            if not f.required and v == (default() if default is f.default_factory else default):
                missing.append(f"{where}.{f.name}")
            missing += _fields_left_at_default(v, f"{where}.{f.name}")
        return missing
    if isinstance(value, list):
        return [m for i, v in enumerate(value) for m in _fields_left_at_default(v, f"{where}[{i}]")]
    if isinstance(value, dict):
        return [m for k, v in value.items() for m in _fields_left_at_default(v, f"{where}[{k!r}]")]
    return []


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: tag_of(type(s)))
def test_samples_fill_every_field(sample: Event) -> None:
    """The next golden version exercises every field only if the samples set every one."""
    assert _fields_left_at_default(sample, type(sample).__name__) == []
