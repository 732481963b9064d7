"""Tags are unique and match golden/tags.json: never renamed, removed or reused without a trace."""

from __future__ import annotations

from schemas import Event
from tests.schemas.evolution import TAGS_FILE, check_tags, event_classes, load_json, tag_of, tag_snapshot

_REGEN = "intentional? run `python -m tests.schemas.regen`"


def test_tags_are_unique_across_all_events() -> None:
    tags = [tag_of(c) for c in event_classes()]
    assert len(tags) == len(set(tags)), tags


def test_every_event_sets_its_own_tag() -> None:
    """msgspec falls back to the class name; a class rename would then rename the tag."""
    assert [c.__name__ for c in event_classes() if tag_of(c) == c.__name__] == []


def test_tags_match_the_recorded_list() -> None:
    violations = check_tags(load_json(TAGS_FILE), event_classes())
    breaking = [str(v) for v in violations if v.breaking]
    assert not breaking, "tags renamed, removed or reused:\n" + "\n".join(breaking)
    pending = [str(v) for v in violations]
    assert not pending, f"{_REGEN}:\n" + "\n".join(pending)


# --- the checker itself, on made-up changes ---------------------------------------------------------


class _Renamed(Event, frozen=True, tag="image.found"):
    digest: str


class _Reused(Event, frozen=True, tag="scan.retried"):
    digest: str


class _Twin(Event, frozen=True, tag="scan.retried"):
    scan_id: str


def _recorded() -> dict[str, dict[str, str]]:
    return tag_snapshot()


def _breaking(recorded: dict[str, dict[str, str]], classes: list[type[Event]]) -> list[str]:
    return [str(v) for v in check_tags(recorded, classes) if v.breaking]


def test_checker_accepts_the_code_as_recorded() -> None:
    assert check_tags(_recorded(), event_classes()) == []


def test_checker_flags_a_renamed_tag() -> None:
    classes = [c for c in event_classes() if tag_of(c) != "image.discovered"] + [_Renamed]
    violations = check_tags(_recorded(), classes)
    assert [str(v) for v in violations if v.breaking] == [
        "tag 'image.discovered' (ImageDiscovered) disappeared: renamed or removed"
    ]
    assert any("'image.found'" in str(v) and not v.breaking for v in violations)


def test_checker_flags_a_reused_retired_tag() -> None:
    recorded = _recorded() | {"scan.retried": {"class": "ScanRetried", "topic": "?", "status": "retired"}}
    assert _breaking(recorded, [*event_classes(), _Reused]) == [
        "tag 'scan.retried' was retired and must not be reused (_Reused)"
    ]


def test_checker_flags_a_duplicate_tag() -> None:
    assert _breaking(_recorded(), [*event_classes(), _Reused, _Twin])[0] == (
        "tag 'scan.retried' is used by 2 classes: _Reused, _Twin"
    )


def test_checker_flags_a_tag_that_moved_topic() -> None:
    recorded = _recorded()
    recorded["finding"] = {**recorded["finding"], "topic": "assay.alerts.v1"}
    assert _breaking(recorded, event_classes()) == [
        "tag 'finding' moved from assay.alerts.v1 to assay.findings.v1: use a new tag or topic"
    ]
