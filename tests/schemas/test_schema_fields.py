"""Fields match golden/fields.json: none removed or retyped, defaults unchanged, new ones optional."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from tests.schemas.evolution import FIELDS_FILE, check_fields, describe, field_snapshot, load_json

_REGEN = "intentional? run `python -m tests.schemas.regen`"


def test_no_breaking_field_change_since_the_recorded_snapshot() -> None:
    breaking = [str(v) for v in check_fields(load_json(FIELDS_FILE), field_snapshot()) if v.breaking]
    assert not breaking, "breaking wire changes (use a new topic version):\n" + "\n".join(breaking)


def test_recorded_snapshot_is_current() -> None:
    """Additions are fine but must be recorded, or a later retype of them would go unnoticed."""
    pending = [str(v) for v in check_fields(load_json(FIELDS_FILE), field_snapshot())]
    assert not pending, f"{_REGEN}:\n" + "\n".join(pending)


def test_snapshot_covers_events_and_nested_records() -> None:
    snapshot = field_snapshot()
    assert set(snapshot["records"]) == {
        "CoverageGap",
        "Detection",
        "Distro",
        "Finding",
        "ImageInfo",
        "LayerInfo",
        "PackageRecord",
        "Unknown",
        "VulnMatch",
    }
    scan_completed = snapshot["events"]["scan.completed"]["fields"]
    assert scan_completed["packages"] == {
        "wire": "packages",
        "type": "list[PackageRecord]",
        "required": False,
        "default": [],
    }
    assert snapshot["records"]["ImageInfo"]["fields"]["distro"]["type"] == "Distro | None"
    assert snapshot["events"]["dead-letter"]["fields"]["payload"]["type"] == "bytes"


# --- the checker itself, on made-up versions of one record -------------------------------------------


class _V1(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    size: int = 0
    tags: list[str] = []


class _Removed(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    tags: list[str] = []


class _Retyped(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    size: str = ""
    tags: list[str] = []


class _RequiredAdded(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    size: int = 0
    tags: list[str] = []
    owner: str


class _OptionalAdded(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    size: int = 0
    tags: list[str] = []
    owner: str = ""


class _DefaultChanged(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    size: int = -1
    tags: list[str] = []


class _BecameRequired(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    size: int
    tags: list[str] = []


class _WireRenamed(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    size: int = msgspec.field(default=0, name="bytes")
    tags: list[str] = []


def _snap(cls: type[msgspec.Struct]) -> dict[str, Any]:
    return {"records": {"Thing": {"fields": describe(cls)}}}


def _check(new: type[msgspec.Struct]) -> list[tuple[str, bool]]:
    return [(str(v), v.breaking) for v in check_fields(_snap(_V1), _snap(new))]


def test_checker_accepts_an_unchanged_struct() -> None:
    assert _check(_V1) == []


def test_checker_flags_a_removed_field() -> None:
    assert _check(_Removed) == [("record Thing.size was removed", True)]


def test_checker_flags_a_changed_type() -> None:
    assert _check(_Retyped) == [("record Thing.size changed type from int to str", True)]


def test_checker_flags_a_new_field_without_default() -> None:
    assert _check(_RequiredAdded) == [
        ("record Thing.owner is new and has no default: older payloads lack it", True)
    ]


def test_checker_accepts_a_new_field_with_default_but_wants_it_recorded() -> None:
    assert _check(_OptionalAdded) == [
        ("record Thing.owner is new (with a default: fine) and not recorded", False)
    ]


def test_checker_flags_a_changed_default() -> None:
    assert _check(_DefaultChanged) == [
        ("record Thing.size changed its default from 0 to -1: omitted values change meaning", True)
    ]


def test_checker_flags_a_field_that_lost_its_default() -> None:
    assert _check(_BecameRequired) == [
        ("record Thing.size lost its default: payloads without it no longer decode", True)
    ]


def test_checker_flags_a_wire_rename() -> None:
    assert _check(_WireRenamed) == [("record Thing.size changed its wire name from 'size' to 'bytes'", True)]


def test_checker_flags_a_removed_struct() -> None:
    violations = check_fields(_snap(_V1), {"records": {}})
    assert [(str(v), v.breaking) for v in violations] == [("record Thing and its fields were removed", True)]


class _Named(msgspec.Struct, frozen=True, kw_only=True):
    name: Literal["a", "b"]
    size: int = 0
    tags: list[str] = []


class _NamedMore(msgspec.Struct, frozen=True, kw_only=True):
    name: Literal["a", "b", "c"]
    size: int = 0
    tags: list[str] = []


class _NamedLess(msgspec.Struct, frozen=True, kw_only=True):
    name: Literal["a"]
    size: int = 0
    tags: list[str] = []


def test_checker_records_a_str_narrowed_to_a_vocabulary() -> None:
    """The golden payloads of every version still decode: that, not this checker, guards the values."""
    assert _check(_Named) == [
        ("record Thing.name narrowed from str to the vocabulary Literal['a', 'b']", False)
    ]


def test_checker_flags_a_vocabulary_losing_or_gaining_a_value() -> None:
    def check(old: type[msgspec.Struct], new: type[msgspec.Struct]) -> list[tuple[str, bool]]:
        return [(str(v), v.breaking) for v in check_fields(_snap(old), _snap(new))]

    assert check(_Named, _NamedLess) == [("record Thing.name vocabulary changed (lost ['b'])", True)]
    assert check(_Named, _NamedMore) == [("record Thing.name vocabulary changed (gained ['c'])", True)]
    assert check(_Named, _V1) == [("record Thing.name changed type from Literal['a', 'b'] to str", True)]
