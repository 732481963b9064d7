"""Every topic has a decoder for exactly its own events; other topics' events are rejected."""

from __future__ import annotations

import json

import msgspec
import pytest

from schemas import ALL_TOPICS, Event, Topics, encode_event, topic_decoder
from tests.schemas.evolution import event_classes, events_by_topic, tag_of
from tests.schemas.samples import SAMPLES

_TOPIC_OF = {cls: topic for topic, members in events_by_topic().items() for cls in members}
_FOREIGN = [(topic, s) for topic in ALL_TOPICS for s in SAMPLES if _TOPIC_OF.get(type(s)) != topic]


def test_all_topics_lists_every_topic_constant() -> None:
    constants = {v for k, v in vars(Topics).items() if k.isupper()}
    assert set(ALL_TOPICS) == constants
    assert len(ALL_TOPICS) == len(constants)


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_every_topic_has_a_decoder(topic: str) -> None:
    members = events_by_topic()[topic]
    assert members, f"{topic} accepts no event"
    assert all(isinstance(m, type) and issubclass(m, Event) for m in members)


def test_unknown_topic_has_no_decoder() -> None:
    with pytest.raises(KeyError):
        topic_decoder("assay.not-a-topic.v1")


def test_every_event_is_on_exactly_one_topic() -> None:
    placements = {tag_of(c): [t for t, m in events_by_topic().items() if c in m] for c in event_classes()}
    assert {tag: len(topics) for tag, topics in placements.items()} == dict.fromkeys(placements, 1)


@pytest.mark.parametrize(("topic", "sample"), _FOREIGN, ids=[f"{t}<-{tag_of(type(s))}" for t, s in _FOREIGN])
def test_decoder_rejects_other_topics_events(topic: str, sample: Event) -> None:
    with pytest.raises(msgspec.ValidationError):
        topic_decoder(topic).decode(encode_event(sample))


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_decoder_rejects_unknown_tag(topic: str) -> None:
    """An event type this version does not know is an error (the runner dead-letters it), not a guess."""
    own = next(s for s in SAMPLES if _TOPIC_OF.get(type(s)) == topic)
    payload = json.loads(encode_event(own)) | {"type": "no.such.event"}
    with pytest.raises(msgspec.ValidationError):
        topic_decoder(topic).decode(json.dumps(payload).encode())
