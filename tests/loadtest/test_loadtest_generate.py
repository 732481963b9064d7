"""The synthetic fleet: deterministic, heavy digest overlap, wire-exact lines."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from loadtest.generate import FleetSpec, generate, read_jsonl, write_jsonl
from schemas import ImageDiscovered, Topics, decode_event, encode_event

SPEC = FleetSpec(clusters=200, images_per_cluster=50, digests=500, registries=3, seed=7)


def test_the_same_spec_gives_the_same_bytes_and_another_seed_does_not() -> None:
    first = [encode_event(e) for e in generate(SPEC)]
    again = [encode_event(e) for e in generate(SPEC)]
    other = [
        encode_event(e) for e in generate(FleetSpec(clusters=200, images_per_cluster=50, digests=500, seed=8))
    ]
    assert first == again
    assert first != other
    assert {decode_event(Topics.INVENTORY, line).digest for line in first}.isdisjoint(
        {decode_event(Topics.INVENTORY, line).digest for line in other}
    )


def test_every_digest_appears_and_popular_ones_run_in_most_clusters() -> None:
    events = list(generate(SPEC))
    assert len(events) == 200 * 50
    clusters: dict[str, list[str]] = {}
    for event in events:
        clusters.setdefault(event.environment, []).append(event.digest)
    assert len(clusters) == 200
    # a cluster runs 50 different images
    assert all(len(digests) == len(set(digests)) == 50 for digests in clusters.values())
    sightings = Counter(e.digest for e in events)
    assert len(sightings) == 500  # every catalogue image is placed at least once
    most_common = sightings.most_common(1)[0][1]
    assert most_common > 100  # the top image runs in more than half of the 200 clusters
    assert min(sightings.values()) >= 1
    assert {e.registry for e in events} == {f"registry-{i}.example.com" for i in range(3)}
    # a digest always names the same image
    refs = {(e.digest, e.registry, e.repository, e.tag) for e in events}
    assert len(refs) == 500


def test_jsonl_lines_are_the_wire_encoding_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "fleet.jsonl"
    events = list(generate(FleetSpec(clusters=5, images_per_cluster=4, digests=10, seed=1)))
    assert write_jsonl(events, path) == 20
    lines = path.read_bytes().splitlines()
    assert lines == [encode_event(e) for e in events]
    read = list(read_jsonl(path))
    assert read == [(e.digest, encode_event(e)) for e in events]
    assert isinstance(decode_event(Topics.INVENTORY, read[0][1]), ImageDiscovered)


def test_a_line_that_is_not_an_inventory_event_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = encode_event(next(generate(FleetSpec(clusters=1, images_per_cluster=1, digests=1))))
    path.write_bytes(good + b"\n\n" + b'{"type":"scan.requested","scan_id":"x"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:3: not an ImageDiscovered event"):
        list(read_jsonl(path))


def test_impossible_specs_are_refused_with_the_parameter_named() -> None:
    spec = FleetSpec(clusters=0, images_per_cluster=20, digests=10)
    problems = spec.problems()
    assert any(p.startswith("clusters must be at least 1") for p in problems)
    assert any("images_per_cluster (20) cannot exceed digests (10)" in p for p in problems)
    with pytest.raises(ValueError, match="clusters must be at least 1"):
        next(generate(spec))


def test_a_steep_skew_still_fills_every_cluster() -> None:
    events = list(generate(FleetSpec(clusters=3, images_per_cluster=30, digests=40, skew=6.0, seed=2)))
    per_cluster = Counter(e.environment for e in events)
    assert sorted(per_cluster.values()) == [30, 30, 30]
