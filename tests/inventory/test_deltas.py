"""``Deltas``: what a polling source publishes between two passes (pure; no network, no clock)."""

from __future__ import annotations

from schemas.events import ImageDiscovered, ImageRemoved, InventoryEvent
from services.inventory.deltas import Deltas, Pass

ENV = "registry:r.example"


def d(n: int) -> str:
    return f"sha256:{n:064x}"


def seen(repo: str, tag: str, n: int, *, env: str = ENV) -> ImageDiscovered:
    return ImageDiscovered(environment=env, registry="r.example", repository=repo, tag=tag, digest=d(n))


def full(*events: ImageDiscovered, incomplete: frozenset[tuple[str, str]] = frozenset()) -> Pass:
    return Pass(events=list(events), environments=frozenset({ENV}), incomplete=incomplete)


def brief(events: list[InventoryEvent]) -> list[tuple[str, str, str, int]]:
    return [
        (
            type(e).__name__,
            e.repository,
            e.tag if isinstance(e, ImageDiscovered) else "",
            int(e.digest[7:], 16),
        )
        for e in events
    ]


def test_first_pass_publishes_everything_and_an_unchanged_pass_nothing() -> None:
    deltas = Deltas()
    first = full(seen("app", "1.0", 1), seen("app", "latest", 1), seen("db", "12", 2))
    assert len(deltas.changes(first, full=True)) == 3
    assert deltas.changes(first) == []
    assert len(deltas.changes(first, full=True)) == 3  # a full pass republishes


def test_a_new_tag_and_a_moved_tag() -> None:
    deltas = Deltas()
    deltas.changes(full(seen("app", "1.0", 1), seen("app", "latest", 1)), full=True)
    # latest moves to image 2, 2.0 is new: image 1 keeps tag 1.0, so its link is renewed with it
    events = deltas.changes(full(seen("app", "1.0", 1), seen("app", "latest", 2), seen("app", "2.0", 2)))
    assert brief(events) == [
        ("ImageRemoved", "app", "", 1),
        ("ImageDiscovered", "app", "1.0", 1),
        ("ImageDiscovered", "app", "2.0", 2),
        ("ImageDiscovered", "app", "latest", 2),
    ]


def test_a_deleted_tag_unlinks_its_image_when_no_tag_is_left() -> None:
    deltas = Deltas()
    deltas.changes(full(seen("app", "1.0", 1), seen("app", "2.0", 2)), full=True)
    events = deltas.changes(full(seen("app", "2.0", 2)))
    assert brief(events) == [("ImageRemoved", "app", "", 1)]
    assert isinstance(events[0], ImageRemoved)
    assert events[0].environment == ENV


def test_an_incomplete_repository_or_an_unlisted_environment_removes_nothing() -> None:
    deltas = Deltas()
    deltas.changes(full(seen("app", "1.0", 1), seen("db", "12", 2)), full=True)
    # app's tags could not be listed this time: its images are kept, db's are judged
    assert deltas.changes(full(seen("db", "12", 2), incomplete=frozenset({(ENV, "app")}))) == []
    # the catalog failed: the environment is not in the pass at all
    assert deltas.changes(Pass(events=[])) == []
    # back: app's tag is still known (not republished); db is gone now
    assert brief(deltas.changes(full(seen("app", "1.0", 1)))) == [("ImageRemoved", "db", "", 2)]


def test_a_changed_workload_field_is_a_change_but_the_time_is_not() -> None:
    deltas = Deltas()
    first = ImageDiscovered(
        environment="ecs:prod", registry="r", repository="app", digest=d(1), workload="web", pod_count=2
    )
    deltas.changes(Pass(events=[first], environments=frozenset({"ecs:prod"})), full=True)
    later = ImageDiscovered(
        environment="ecs:prod", registry="r", repository="app", digest=d(1), workload="web", pod_count=2,
        discovered_at="2026-12-07T20:00:00Z",
    )  # fmt: skip
    assert deltas.changes(Pass(events=[later], environments=frozenset({"ecs:prod"}))) == []
    scaled = ImageDiscovered(
        environment="ecs:prod", registry="r", repository="app", digest=d(1), workload="web", pod_count=3
    )
    assert deltas.changes(Pass(events=[scaled], environments=frozenset({"ecs:prod"}))) == [scaled]
