"""Claim-check on the real broker with moto's S3: large payloads travel by reference, small ones inline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from schemas import Topics, decode_event, encode_event
from schemas.events import ImageDiscovered
from services.common.aws import AwsClients
from services.common.bus.claimcheck import PAYLOAD_REF_HEADER, ClaimCheck, claim_key
from services.common.bus.interface import Message
from services.common.bus.kafka import KafkaBus
from services.common.errors import BusError
from services.common.objectstore import DirectoryObjectStore, S3ObjectStore
from tests.harness.broker import unique_name

BUCKET = "assay-test"


async def _collect(bus: KafkaBus, group: str, topic: str, count: int) -> list[Message]:
    consumer = bus.consumer(group, [topic])
    await consumer.start()
    got: list[Message] = []
    try:
        for _ in range(60):
            got += await consumer.fetch(max_records=10, timeout_s=0.5)
            if len(got) >= count:
                break
    finally:
        await consumer.stop()
    return got


async def test_large_records_go_through_s3_and_come_back_whole(
    kafka_servers: str, aws_clients: AwsClients
) -> None:
    s3 = await aws_clients.client("s3")
    await s3.create_bucket(Bucket=BUCKET)
    store = S3ObjectStore(s3, BUCKET, "assay/")
    topic = unique_name("claimcheck")
    big = ImageDiscovered(
        environment="registry:x", registry="x", repository="r" * 700_000, digest="sha256:" + "1" * 64
    )
    small = ImageDiscovered(
        environment="registry:x", registry="x", repository="small", digest="sha256:" + "2" * 64
    )
    big_bytes = encode_event(big)
    assert len(big_bytes) > 512 * 1024

    bus = KafkaBus(kafka_servers, claim_check=ClaimCheck(store, threshold=512 * 1024))
    plain = KafkaBus(kafka_servers)  # a reader without the claim check sees what is on the wire
    await bus.start()
    await plain.start()
    try:
        await bus.ensure_topics([topic], partitions=1)
        await bus.publish(topic, "k1", big_bytes, [("traceparent", b"00-x")])
        await bus.publish(topic, "k2", encode_event(small))
        got = await _collect(bus, unique_name("g"), topic, 2)
        raw = await _collect(plain, unique_name("raw"), topic, 2)
    finally:
        await bus.stop()
        await plain.stop()

    assert [decode_event(Topics.INVENTORY, m.value) for m in got] == [big, small]
    assert ("traceparent", b"00-x") in got[0].headers
    # on the wire: an empty value and a short reference header; the small record is inline
    assert raw[0].value == b""
    ref = dict(raw[0].headers)[PAYLOAD_REF_HEADER].decode()
    assert ref == claim_key(topic, big_bytes)
    assert len(ref) < 200
    assert raw[1].value == encode_event(small)
    assert PAYLOAD_REF_HEADER not in dict(raw[1].headers)
    stored = await s3.get_object(Bucket=BUCKET, Key=f"assay/{ref}")
    async with stored["Body"] as body:
        assert await body.read() == big_bytes


async def test_a_missing_object_is_delivered_empty_and_a_broken_store_is_a_bus_error(tmp_path: Path) -> None:
    store = DirectoryObjectStore(tmp_path / "objects")
    check = ClaimCheck(store, threshold=10)
    value, headers = await check.outgoing("t", b"x" * 100, [])
    assert value == b""
    message = Message(topic="t", partition=0, offset=5, key=b"k", value=value, headers=tuple(headers))
    assert (await check.incoming(message)).value == b"x" * 100
    (tmp_path / "objects" / claim_key("t", b"x" * 100)).unlink()
    assert (await check.incoming(message)).value == b""  # the runner dead-letters it as undecodable

    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    broken = ClaimCheck(DirectoryObjectStore(blocked), threshold=10)
    with pytest.raises(BusError, match="claim-check store failed"):
        await broken.outgoing("t", b"y" * 100, [])
    with pytest.raises(BusError, match="cannot fetch the claim-checked payload"):
        await broken.incoming(message)


async def test_the_s3_store_round_trips_and_reports_missing_keys(aws_clients: AwsClients) -> None:
    s3 = await aws_clients.client("s3")
    await s3.create_bucket(Bucket=BUCKET)
    store = S3ObjectStore(s3, BUCKET, "p")
    await asyncio.gather(*(store.put(f"a/{i}", bytes([i]) * 1000) for i in range(5)))
    assert [await store.get(f"a/{i}") for i in range(5)] == [bytes([i]) * 1000 for i in range(5)]
    assert await store.get("a/none") is None
    assert store.describe("a/1") == f"s3://{BUCKET}/p/a/1"
