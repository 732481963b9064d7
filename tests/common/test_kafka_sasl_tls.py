"""The Kafka bus over TLS with SASL (PLAIN, SCRAM-SHA-256/512) and over mTLS, end to end.

The broker is the embedded Tansu behind ``tests/harness/kafka_front.py``, a faithful fake of a
Kafka listener's TLS and SASL (SaslHandshake/SaslAuthenticate in the real wire format, SCRAM per
RFC 5802) and of a principal without the Create ACL: Tansu 0.6.0 itself serves neither TLS nor
persistent SCRAM users (the front's docstring says what was tried). Assay's own settings loader and
``KafkaBus`` (aiokafka) are the clients, unchanged. The other CreateTopics answers a Kafka authorizer
may give (ClusterAuthorizationFailed, a refusal of the whole request) are injected at the admin
client seam, ``KafkaBus._admin``.
"""

from __future__ import annotations

import logging
import socket
import ssl
import struct
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import ClusterAuthorizationFailedError

from services.common.bus.kafka import KafkaBus
from services.common.config import kafka_security
from services.common.errors import BusError, ConfigError
from services.common.lifespan import Need, Needs, lifespan
from services.settings import Settings, load_settings
from tests.harness.broker import unique_name
from tests.harness.kafka_front import Front, kafka_front, make_pki
from tests.harness.kafka_wire import Reader

pytestmark = pytest.mark.timeout(120)

USERS = {"assay": "central-s3cret", "assay-agent-edge-1": "agent-s3cret"}
AGENT = "assay-agent-edge-1"  # may not create topics, like an agent's Kafka user


@pytest.fixture(scope="module")
def sasl_front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    with kafka_front(tmp_path_factory.mktemp("sasl"), users=USERS, no_create=(AGENT,)) as front:
        yield front


@pytest.fixture(scope="module")
def mtls_front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    with kafka_front(tmp_path_factory.mktemp("mtls"), sasl=(), client_certs=True) as front:
        yield front


def _settings(front: Front, **kafka: str) -> Settings:
    assert front.pki is not None
    env = {"ASSAY_KAFKA_BOOTSTRAP": front.bootstrap, "ASSAY_KAFKA_SSL_CAFILE": str(front.pki.ca)}
    env.update({f"ASSAY_KAFKA_{k.upper()}": v for k, v in kafka.items()})
    return load_settings(env)


def _bus(settings: Settings) -> KafkaBus:
    return KafkaBus(settings.kafka.bootstrap, security=kafka_security(settings.kafka))


async def _round_trip(settings: Settings) -> bytes:
    """With a bus of ``settings``: create a topic, publish one record, read it back in a fresh group."""
    bus = _bus(settings)
    await bus.start()
    topic = unique_name("sasl")
    try:
        await bus.ensure_topics([topic], partitions=1)
        await bus.publish(topic, "k", b"over TLS")
        consumer = bus.consumer(unique_name("g"), [topic])
        await consumer.start()
        try:
            for _ in range(60):
                got = await consumer.fetch(max_records=10, timeout_s=0.5)
                if got:
                    return got[0].value
        finally:
            await consumer.stop()
    finally:
        await bus.stop()
    raise AssertionError("the record never came back")


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"])
async def test_sasl_ssl_publishes_and_consumes_as_the_user(sasl_front: Front, mechanism: str) -> None:
    settings = _settings(
        sasl_front, sasl_mechanism=mechanism, sasl_username="assay", sasl_password=USERS["assay"]
    )
    assert kafka_security(settings.kafka).protocol == "SASL_SSL"  # implied by the mechanism
    before = len(sasl_front.principals)
    assert await _round_trip(settings) == b"over TLS"
    assert set(sasl_front.principals[before:]) == {"assay"}


async def test_a_wrong_password_is_refused_at_start(sasl_front: Front) -> None:
    settings = _settings(
        sasl_front, sasl_mechanism="SCRAM-SHA-512", sasl_username="assay", sasl_password="nope"
    )
    with pytest.raises(BusError, match="cannot connect the Kafka producer"):
        await _bus(settings).start()
    assert any(r.startswith("assay: bad password") for r in sasl_front.refused)


async def test_a_broker_certificate_from_another_ca_is_refused(sasl_front: Front, tmp_path: Path) -> None:
    other = make_pki(tmp_path / "other").ca  # a CA that did not sign the broker's certificate
    settings = _settings(
        sasl_front,
        sasl_mechanism="PLAIN",
        sasl_username="assay",
        sasl_password=USERS["assay"],
        ssl_cafile=str(other),
    )
    with pytest.raises(BusError):
        await _bus(settings).start()


async def test_mtls_authenticates_by_client_certificate(mtls_front: Front) -> None:
    assert mtls_front.pki is not None
    cert, key = mtls_front.pki.issue("assay-agent-edge-2")
    settings = _settings(mtls_front, ssl_certfile=str(cert), ssl_keyfile=str(key))
    assert kafka_security(settings.kafka).protocol == "SSL"  # implied by the client certificate
    assert await _round_trip(settings) == b"over TLS"
    assert "assay-agent-edge-2" in mtls_front.principals


async def test_mtls_without_a_client_certificate_is_refused(mtls_front: Front) -> None:
    with pytest.raises(BusError):
        await _bus(_settings(mtls_front, security_protocol="SSL")).start()


def test_unreadable_client_certificate_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    settings = load_settings({"ASSAY_KAFKA_SSL_CERTFILE": str(tmp_path / "missing.crt")})
    with pytest.raises(ConfigError, match=r"ASSAY_KAFKA_SSL_\*: cannot load .*missing.crt"):
        KafkaBus("127.0.0.1:9", security=kafka_security(settings.kafka))


def _agent(front: Front, **kafka: str) -> Settings:
    return _settings(
        front, sasl_mechanism="SCRAM-SHA-512", sasl_username=AGENT, sasl_password=USERS[AGENT], **kafka
    )


async def test_a_principal_without_create_still_starts_and_says_why(
    sasl_front: Front, caplog: pytest.LogCaptureFixture
) -> None:
    """The agent's user may write its topic only: ensure_topics is refused (Kafka's 29 per topic),
    logs a warning naming the topic, and the service starts."""
    topic = unique_name("agent-missing")
    bus = _bus(_agent(sasl_front))
    await bus.start()
    try:
        with caplog.at_level(logging.WARNING, logger="services.common.bus.kafka"):
            await bus.ensure_topics([topic])
    finally:
        await bus.stop()
    assert f"{AGENT}: CreateTopics" in sasl_front.refused
    assert any(
        topic in r.getMessage() and "TopicAuthorizationFailed" in r.getMessage() for r in caplog.records
    )


async def test_the_agent_inventory_lifespan_starts_and_publishes_with_limited_rights(
    sasl_front: Front,
) -> None:
    """The central side created the topics; the agent's inventory lifespan asks for its own topic
    only, finds it, and publishes to it as the agent's user."""
    central = _bus(
        _settings(sasl_front, sasl_mechanism="PLAIN", sasl_username="assay", sasl_password=USERS["assay"])
    )
    await central.start()
    await central.ensure_topics(["assay.inventory.v1"])
    await central.stop()
    refused = len(sasl_front.refused)
    async with lifespan(_agent(sasl_front), "inventory", Needs(bus=Need.YES, store=Need.NO)) as resources:
        await resources.need_bus().publish("assay.inventory.v1", unique_name("k"), b"{}")
    assert sasl_front.refused[refused:] == []  # it asked to create nothing


@pytest.mark.parametrize(("ensure", "asked"), [("true", True), ("false", False)])
async def test_ensure_topics_can_be_switched_off(sasl_front: Front, ensure: str, asked: bool) -> None:
    """The engine's topics do not exist on this broker: on, the agent's user asks to create them (and
    is refused, and starts); off, it asks for nothing."""
    refused = len(sasl_front.refused)
    async with lifespan(_agent(sasl_front, ensure_topics=ensure), "engine", Needs(store=Need.NO)):
        pass
    assert (f"{AGENT}: CreateTopics" in sasl_front.refused[refused:]) is asked


def _exchange(sock: ssl.SSLSocket, frame: bytes) -> Reader:
    """Send one size-prefixed request, read one size-prefixed response."""
    sock.sendall(struct.pack(">i", len(frame)) + frame)
    with sock.makefile("rb") as stream:
        size = struct.unpack(">i", stream.read(4))[0]
        return Reader(stream.read(size))


@pytest.mark.parametrize(("password", "error"), [(USERS["assay"], 0), ("nope", 58)])
def test_the_front_speaks_flexible_sasl_authenticate_v2(sasl_front: Front, password: str, error: int) -> None:
    """Java and librdkafka clients send SaslAuthenticate v2 (compact encodings, tagged fields); aiokafka
    sends v1, so this checks the fake's v2 bytes by hand: header v2 in, response header v1 out."""
    assert sasl_front.pki is not None
    host, port = sasl_front.bootstrap.split(":")
    context = ssl.create_default_context(cafile=str(sasl_front.pki.ca))
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as sock,
    ):
        handshake = struct.pack(">hhih", 17, 1, 1, 1) + b"t" + struct.pack(">h", 5) + b"PLAIN"
        reply = _exchange(sock, handshake)
        assert (reply.int32(), reply.int16()) == (1, 0)  # correlation id, no error
        token = f"\0assay\0{password}".encode()
        body = bytes([len(token) + 1]) + token + b"\x00"  # compact bytes, no tagged fields
        reply = _exchange(sock, struct.pack(">hhih", 36, 2, 2, 1) + b"t" + b"\x00" + body)
        assert reply.int32() == 2
        reply.skip_tags()  # response header v1
        assert reply.int16() == error
        if error:
            assert b"invalid credentials" in reply.take(reply.uvarint() - 1)
        else:
            assert reply.uvarint() == 0  # a null error message
            assert reply.uvarint() == 1  # empty auth bytes: PLAIN's server has nothing to say


class _Admin:
    """The admin client seam (``KafkaBus._admin``): topics that exist, and CreateTopics' answer per
    topic (Kafka error codes) or an exception for the whole request."""

    def __init__(self, existing: list[str], codes: dict[str, int], raises: Exception | None = None) -> None:
        self.existing, self.codes, self.raises = existing, codes, raises
        self.asked: list[str] = []

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def list_topics(self) -> list[str]:
        return self.existing

    async def create_topics(self, new: list[Any]) -> Any:
        self.asked = [t.name for t in new]
        if self.raises is not None:
            raise self.raises
        return SimpleNamespace(topic_errors=[(t, self.codes.get(t, 0), None) for t in self.asked])


@pytest.mark.parametrize(
    ("admin", "failure"),
    [
        (_Admin(["a"], {"b": 31}), None),  # ClusterAuthorizationFailed: tolerated, logged
        (_Admin(["a"], {"b": 36}), None),  # TopicAlreadyExists (created meanwhile)
        (_Admin(["a"], {}, raises=ClusterAuthorizationFailedError()), None),  # refused as a whole
        (_Admin(["a"], {"b": 38}), "cannot create topic b: InvalidReplicationFactorError"),
    ],
    ids=["cluster-authorization", "already-exists", "refused-whole", "other-error"],
)
async def test_ensure_topics_tolerates_authorization_only(
    monkeypatch: pytest.MonkeyPatch, admin: _Admin, failure: str | None
) -> None:
    """An error injected at the admin-client seam (the front answers 29 only; Kafka may answer 31)."""
    monkeypatch.setattr(KafkaBus, "_admin", lambda self: admin)
    bus = KafkaBus("127.0.0.1:9")
    if failure is None:
        await bus.ensure_topics(["a", "b"])
    else:
        with pytest.raises(BusError, match=failure):
            await bus.ensure_topics(["a", "b"])
    assert admin.asked == ["b"]  # only the missing topic
