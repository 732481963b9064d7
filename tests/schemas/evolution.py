"""Snapshots of the wire schema and the rules that compare a recorded snapshot with the code.

The snapshots live in ``golden/``: ``tags.json`` (every tag ever used, with its class and topic;
removed tags stay as ``retired`` so they are never reused) and ``fields.json`` (per event tag and per
record class: each field's wire name, type, whether it is required and its default). The tests and
``regen.py`` share the checks below, so regenerating can refuse what the tests would reject.

Why defaults are recorded too: structs are encoded with ``omit_defaults``, so a field at its default
is absent from the payload and a consumer fills in *its own* default. Changing a default silently
changes the meaning of every payload already written.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from schemas import ALL_TOPICS, Event, topic_decoder

__all__ = [
    "FIELDS_FILE",
    "GOLDEN",
    "TAGS_FILE",
    "Violation",
    "check_fields",
    "check_tags",
    "describe",
    "event_classes",
    "events_by_topic",
    "field_snapshot",
    "golden_payloads",
    "load_json",
    "merge_tags",
    "reachable_structs",
    "tag_of",
    "tag_snapshot",
    "type_name",
]

GOLDEN = Path(__file__).parent / "golden"
TAGS_FILE = GOLDEN / "tags.json"
FIELDS_FILE = GOLDEN / "fields.json"
ACTIVE, RETIRED = "active", "retired"


@dataclass(frozen=True, slots=True)
class Violation:
    """A difference between a snapshot and the code. ``breaking`` ones can break a deployed consumer
    or producer; the others only mean the snapshot needs ``python -m tests.schemas.regen``."""

    message: str
    breaking: bool

    def __str__(self) -> str:
        return self.message


# --- discovery ----------------------------------------------------------------------------------


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def tag_of(cls: type[msgspec.Struct]) -> str:
    """The wire tag of a struct class (msgspec defaults it to the class name when none is given)."""
    return str(cls.__struct_config__.tag)


def event_classes() -> list[type[Event]]:
    """Every subclass of ``Event`` defined in ``schemas``, sorted by tag (duplicates kept)."""
    found = [c for c in _subclasses(Event) if c.__module__.startswith("schemas.")]
    return sorted(found, key=lambda c: (tag_of(c), c.__qualname__))


def _union_members(tp: Any) -> tuple[Any, ...]:
    return typing.get_args(tp) if isinstance(tp, types.UnionType) else (tp,)


def events_by_topic() -> dict[str, list[type[Event]]]:
    """The event classes each topic's decoder accepts, read from the decoders themselves."""
    return {topic: list(_union_members(topic_decoder(topic).type)) for topic in ALL_TOPICS}


def _struct_args(tp: Any) -> Iterator[type[msgspec.Struct]]:
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        yield tp
    for arg in typing.get_args(tp):
        yield from _struct_args(arg)


def reachable_structs(roots: Iterable[type[msgspec.Struct]]) -> list[type[msgspec.Struct]]:
    """The non-event structs reachable from ``roots`` through field types (lists, unions, dicts)."""
    seen: dict[type[msgspec.Struct], None] = {}
    stack = list(roots)
    while stack:
        cls = stack.pop()
        for field in msgspec.structs.fields(cls):
            for sub in _struct_args(field.type):
                if sub not in seen and not issubclass(sub, Event):
                    seen[sub] = None
                    stack.append(sub)
    return sorted(seen, key=lambda c: c.__name__)


# --- description --------------------------------------------------------------------------------


def type_name(tp: Any) -> str:
    """A stable spelling of a field annotation: ``list[PackageRecord]``, ``Distro | None``, ``bytes``."""
    if tp is None or tp is types.NoneType:
        return "None"
    origin = typing.get_origin(tp)
    if origin is types.UnionType or origin is typing.Union:
        # Member order carries no meaning on the wire; sort so reordering is not a "change".
        return " | ".join(sorted(type_name(a) for a in typing.get_args(tp)))
    if origin is not None:
        args = ", ".join(type_name(a) for a in typing.get_args(tp))
        return f"{getattr(origin, '__name__', repr(origin))}[{args}]"
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp)


def describe(cls: type[msgspec.Struct]) -> dict[str, dict[str, Any]]:
    """Per field: wire name, type, required, and (when optional) the default as it would be encoded."""
    out: dict[str, dict[str, Any]] = {}
    for f in msgspec.structs.fields(cls):
        entry: dict[str, Any] = {"wire": f.encode_name, "type": type_name(f.type), "required": f.required}
        if f.default is not msgspec.NODEFAULT:
            entry["default"] = msgspec.to_builtins(f.default)
        elif f.default_factory is not msgspec.NODEFAULT:
            entry["default"] = msgspec.to_builtins(f.default_factory())
        out[f.name] = entry
    return out


def tag_snapshot() -> dict[str, dict[str, str]]:
    """The tags in use now: tag -> class and topic (``?`` for an event no topic accepts)."""
    topic_of = {cls: topic for topic, classes in events_by_topic().items() for cls in classes}
    return {
        tag_of(cls): {"class": cls.__qualname__, "topic": topic_of.get(cls, "?"), "status": ACTIVE}
        for cls in event_classes()
    }


def field_snapshot() -> dict[str, dict[str, Any]]:
    """Fields of every event (keyed by tag, its wire identity) and every record (keyed by class name)."""
    events = event_classes()
    return {
        "events": {tag_of(c): {"class": c.__qualname__, "fields": describe(c)} for c in events},
        "records": {c.__name__: {"fields": describe(c)} for c in reachable_structs(events)},
    }


# --- rules --------------------------------------------------------------------------------------


def check_tags(recorded: Mapping[str, Mapping[str, str]], classes: Iterable[type[Event]]) -> list[Violation]:
    """Tags are unique, never renamed or removed silently, never reused once retired, never move topic."""
    classes = list(classes)
    topic_of = {cls: topic for topic, members in events_by_topic().items() for cls in members}
    out: list[Violation] = []
    by_tag: dict[str, list[str]] = {}
    for cls in classes:
        by_tag.setdefault(tag_of(cls), []).append(cls.__qualname__)
    for tag, owners in sorted(by_tag.items()):
        if len(owners) > 1:
            out.append(Violation(f"tag {tag!r} is used by {len(owners)} classes: {', '.join(owners)}", True))
    current = {tag_of(cls): cls for cls in classes}
    for tag, entry in sorted(recorded.items()):
        found = current.get(tag)
        if entry["status"] == RETIRED:
            if found is not None:
                out.append(
                    Violation(f"tag {tag!r} was retired and must not be reused ({found.__qualname__})", True)
                )
        elif found is None:
            out.append(Violation(f"tag {tag!r} ({entry['class']}) disappeared: renamed or removed", True))
        elif topic_of.get(found, "?") != entry["topic"]:
            moved = f"from {entry['topic']} to {topic_of.get(found, '?')}"
            out.append(Violation(f"tag {tag!r} moved {moved}: use a new tag or topic", True))
    for tag in sorted(set(current) - set(recorded)):
        out.append(Violation(f"new tag {tag!r} is not recorded in {TAGS_FILE.name}", False))
    return out


def _literal_values(type_text: str) -> set[str] | None:
    """The values of a ``Literal['a', 'b']`` spelling (``type_name``), None for any other type."""
    if not type_text.startswith("Literal[") or " | " in type_text:
        return None
    return set(re.findall(r"'((?:[^'\\]|\\.)*)'", type_text))


def _retyped(where: str, was: str, now: str) -> Violation:
    """A type change; narrowing a ``str`` to a vocabulary (``schemas/vocabulary.py``) is recordable.

    ``str`` -> ``Literal[...]``: decoders now reject values outside the vocabulary. Not breaking as
    long as every value ever sent is in it, which the golden payloads of every version check
    (``test_schema_golden``). A vocabulary losing a value, or gaining one (consumers built before
    it reject it: upgrade them first), is breaking.
    """
    old_values, new_values = _literal_values(was), _literal_values(now)
    if was == "str" and new_values is not None:
        return Violation(f"{where} narrowed from str to the vocabulary {now}", False)
    if old_values is not None and new_values is not None:
        lost, gained = sorted(old_values - new_values), sorted(new_values - old_values)
        what = "; ".join(
            x for x in (f"lost {lost}" if lost else "", f"gained {gained}" if gained else "") if x
        )
        return Violation(f"{where} vocabulary changed ({what})", True)
    return Violation(f"{where} changed type from {was} to {now}", True)


def _check_struct(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Violation]:
    for field, was in old.items():
        now = new.get(field)
        where = f"{name}.{field}"
        if now is None:
            yield Violation(f"{where} was removed", True)
            continue
        retyped = now["type"] != was["type"]
        if retyped:
            yield _retyped(where, was["type"], now["type"])
        if now["wire"] != was["wire"]:
            yield Violation(f"{where} changed its wire name from {was['wire']!r} to {now['wire']!r}", True)
        if now["required"] and not was["required"]:
            yield Violation(f"{where} lost its default: payloads without it no longer decode", True)
        elif not retyped and not now["required"] and not was["required"] and now["default"] != was["default"]:
            changed = f"from {was['default']!r} to {now['default']!r}"
            yield Violation(f"{where} changed its default {changed}: omitted values change meaning", True)
        elif was["required"] and not now["required"]:
            yield Violation(f"{where} gained a default (fine) that is not recorded", False)
    for field in new.keys() - old.keys():
        where = f"{name}.{field}"
        if new[field]["required"]:
            yield Violation(f"{where} is new and has no default: older payloads lack it", True)
        else:
            yield Violation(f"{where} is new (with a default: fine) and not recorded", False)


def check_fields(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[Violation]:
    """No recorded field disappears or changes type, wire name or default; new fields have defaults."""
    out: list[Violation] = []
    for kind in ("events", "records"):
        old_structs, new_structs = recorded.get(kind, {}), current.get(kind, {})
        for name, old in sorted(old_structs.items()):
            label = f"{kind[:-1]} {name}"
            if name not in new_structs:
                out.append(Violation(f"{label} and its fields were removed", True))
            else:
                out.extend(sorted(_check_struct(label, old["fields"], new_structs[name]["fields"]), key=str))
        for name in sorted(new_structs.keys() - old_structs.keys()):
            out.append(Violation(f"new {kind[:-1]} {name} is not recorded in {FIELDS_FILE.name}", False))
    return out


def merge_tags(
    recorded: Mapping[str, Mapping[str, str]], current: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str]]:
    """The next ``tags.json``: current tags active, recorded ones no longer in use kept as retired."""
    merged = {tag: dict(entry) for tag, entry in current.items()}
    for tag, entry in recorded.items():
        if tag not in merged:
            merged[tag] = {**entry, "status": RETIRED}
    return dict(sorted(merged.items()))


# --- golden files -------------------------------------------------------------------------------


def load_json(path: Path) -> Any:
    """A golden JSON file; an empty snapshot when it does not exist yet."""
    return json.loads(path.read_text()) if path.exists() else {}


def golden_payloads() -> list[Path]:
    """Every golden payload of every version, ``golden/v<N>/<tag>.json``, oldest version first."""
    return sorted(GOLDEN.glob("v*/*.json"), key=lambda p: (int(p.parent.name[1:]), p.name))
