"""The Kafka wire pieces a broker's authenticating listener speaks, and SCRAM's server side.

Written from the protocol's published message definitions (Apache Kafka ``clients/src/main/
resources/common/message/``: ``RequestHeader``, ``ResponseHeader``, ``SaslHandshake{Request,
Response}``, ``SaslAuthenticate{Request,Response}``, ``CreateTopics{Request,Response}``) and from
RFC 5802/7677 (SCRAM-SHA-256/512) and RFC 4616 (PLAIN), so that a real client (aiokafka) cannot
tell ``kafka_front`` from a Kafka listener during authentication. Used only by tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass

__all__ = [
    "AUTH_FAILED",
    "FLEXIBLE_FROM",
    "SCRAM_HASHES",
    "TOPIC_AUTHORIZATION_FAILED",
    "UNSUPPORTED_SASL_MECHANISM",
    "Reader",
    "RequestHeader",
    "ScramServer",
    "authenticate_bytes",
    "authenticate_response",
    "create_topics_denied",
    "expects_response",
    "handshake_response",
    "scram_credential",
]

UNSUPPORTED_SASL_MECHANISM = 33
AUTH_FAILED = 58  # SASL_AUTHENTICATION_FAILED
TOPIC_AUTHORIZATION_FAILED = 29
SCRAM_HASHES = {"SCRAM-SHA-256": hashlib.sha256, "SCRAM-SHA-512": hashlib.sha512}
# SaslAuthenticate is flexible (compact encodings, tagged fields) from v2, CreateTopics from v5
_AUTHENTICATE_FLEXIBLE = 2
_CREATE_TOPICS_FLEXIBLE = 5
_PRODUCE_FLEXIBLE = 9
# api key -> the first version whose request header (v2) carries tagged fields
FLEXIBLE_FROM = {0: _PRODUCE_FLEXIBLE, 18: 3, 19: _CREATE_TOPICS_FLEXIBLE, 36: _AUTHENTICATE_FLEXIBLE}


class Reader:
    """Reads Kafka's primitive types from a request body."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise ValueError("request truncated")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def int16(self) -> int:
        return int(struct.unpack(">h", self.take(2))[0])

    def int32(self) -> int:
        return int(struct.unpack(">i", self.take(4))[0])

    def uvarint(self) -> int:
        shift = value = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7

    def string(self) -> str | None:
        size = self.int16()
        return None if size < 0 else self.take(size).decode()

    def bytes32(self) -> bytes:
        return self.take(self.int32())

    def compact_bytes(self) -> bytes:
        return self.take(self.uvarint() - 1)

    def skip_tags(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


@dataclass(frozen=True)
class RequestHeader:
    """``RequestHeader`` v1 (v2 for flexible requests adds tagged fields): the body starts at ``end``."""

    api_key: int
    version: int
    correlation_id: int
    end: int

    @classmethod
    def parse(cls, frame: bytes, flexible_from: dict[int, int] = FLEXIBLE_FROM) -> RequestHeader:
        reader = Reader(frame)
        api_key, version, correlation_id = reader.int16(), reader.int16(), reader.int32()
        reader.string()  # client_id
        if version >= flexible_from.get(api_key, 1 << 15):
            reader.skip_tags()
        return cls(api_key, version, correlation_id, reader.offset)


def _str16(value: str | None) -> bytes:
    if value is None:
        return struct.pack(">h", -1)
    raw = value.encode()
    return struct.pack(">h", len(raw)) + raw


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _frame(correlation_id: int, body: bytes, *, flexible: bool = False) -> bytes:
    header = struct.pack(">i", correlation_id) + (b"\x00" if flexible else b"")  # ResponseHeader v0/v1
    return struct.pack(">i", len(header) + len(body)) + header + body


def handshake_response(correlation_id: int, error: int, mechanisms: list[str]) -> bytes:
    """``SaslHandshakeResponse`` v0/v1: error code and the enabled mechanisms."""
    body = struct.pack(">hi", error, len(mechanisms)) + b"".join(_str16(m) for m in mechanisms)
    return _frame(correlation_id, body)


def authenticate_response(header: RequestHeader, error: int, message: str | None, auth: bytes) -> bytes:
    """``SaslAuthenticateResponse`` v0-v2 (v1 adds session_lifetime_ms; v2 is flexible)."""
    if header.version >= _AUTHENTICATE_FLEXIBLE:
        text = b"\x00" if message is None else _uvarint(len(message.encode()) + 1) + message.encode()
        body = (
            struct.pack(">h", error) + text + _uvarint(len(auth) + 1) + auth + struct.pack(">q", 0) + b"\x00"
        )
        return _frame(header.correlation_id, body, flexible=True)
    body = struct.pack(">h", error) + _str16(message) + struct.pack(">i", len(auth)) + auth
    if header.version >= 1:
        body += struct.pack(">q", 0)  # session_lifetime_ms: no re-authentication asked
    return _frame(header.correlation_id, body)


def authenticate_bytes(frame: bytes, header: RequestHeader) -> bytes:
    """The ``auth_bytes`` of a ``SaslAuthenticateRequest``."""
    reader = Reader(frame, header.end)
    return reader.compact_bytes() if header.version >= _AUTHENTICATE_FLEXIBLE else reader.bytes32()


def expects_response(frame: bytes, header: RequestHeader) -> bool:
    """False only for a ``ProduceRequest`` with acks=0, which the broker never answers."""
    if header.api_key != 0:
        return True
    reader = Reader(frame, header.end)
    if header.version >= _PRODUCE_FLEXIBLE:
        reader.take(max(reader.uvarint() - 1, 0))  # transactional_id, compact nullable string
    elif header.version >= 3:
        reader.string()  # transactional_id
    return reader.int16() != 0


def create_topics_denied(frame: bytes, header: RequestHeader) -> bytes | None:
    """A ``CreateTopicsResponse`` (v0-v4) refusing every topic of the request with
    TOPIC_AUTHORIZATION_FAILED, as Kafka answers a principal without Create; None for flexible
    versions (v5+), which this fake does not decode."""
    if header.version >= _CREATE_TOPICS_FLEXIBLE:
        return None
    reader = Reader(frame, header.end)
    names: list[str] = []
    for _ in range(reader.int32()):
        names.append(reader.string() or "")
        reader.take(6)  # num_partitions, replication_factor
        for _ in range(reader.int32()):  # assignments
            reader.take(4)
            reader.take(4 * reader.int32())
        for _ in range(reader.int32()):  # configs
            reader.string()
            reader.string()
    body = struct.pack(">i", 0) if header.version >= 2 else b""  # throttle_time_ms
    body += struct.pack(">i", len(names))
    for name in names:
        body += _str16(name) + struct.pack(">h", TOPIC_AUTHORIZATION_FAILED)
        if header.version >= 1:
            body += _str16("Authorization failed.")
    return _frame(header.correlation_id, body)


@dataclass(frozen=True)
class _ScramCredential:
    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes


def scram_credential(mechanism: str, password: str, iterations: int = 4096) -> _ScramCredential:
    """What a broker stores for a SCRAM user (RFC 5802 section 3): never the password itself."""
    digest = SCRAM_HASHES[mechanism]
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac(digest().name, password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    server_key = hmac.new(salted, b"Server Key", digest).digest()
    return _ScramCredential(salt, iterations, digest(client_key).digest(), server_key)


class ScramServer:
    """One SCRAM exchange, server side: ``first`` answers the client-first message, ``final`` checks
    the proof and answers the server signature. Both raise ``PermissionError`` on bad credentials."""

    def __init__(self, mechanism: str, credentials: dict[str, _ScramCredential]) -> None:
        self._digest = SCRAM_HASHES[mechanism]
        self._credentials = credentials
        self.user = ""
        self._nonce = ""
        self._auth_message = ""
        self._gs2 = ""

    def first(self, message: str) -> str:
        gs2_flag, authzid, bare = message.split(",", 2)
        self._gs2 = f"{gs2_flag},{authzid},"
        attrs = dict(part.split("=", 1) for part in bare.split(","))
        self.user = attrs["n"].replace("=2C", ",").replace("=3D", "=")
        credential = self._credentials.get(self.user)
        if credential is None:
            raise PermissionError(f"unknown user {self.user!r}")
        self._nonce = attrs["r"] + secrets.token_urlsafe(18)
        salt = base64.b64encode(credential.salt).decode()
        server_first = f"r={self._nonce},s={salt},i={credential.iterations}"
        self._auth_message = f"{bare},{server_first}"
        return server_first

    def final(self, message: str) -> str:
        without_proof, _, proof = message.rpartition(",p=")
        attrs = dict(part.split("=", 1) for part in without_proof.split(","))
        if attrs.get("r") != self._nonce or base64.b64decode(attrs.get("c", "")) != self._gs2.encode():
            raise PermissionError("nonce or channel binding mismatch")
        credential = self._credentials[self.user]
        auth_message = f"{self._auth_message},{without_proof}".encode()
        signature = hmac.new(credential.stored_key, auth_message, self._digest).digest()
        client_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature, strict=True))
        if not hmac.compare_digest(self._digest(client_key).digest(), credential.stored_key):
            raise PermissionError(f"bad password for {self.user!r}")
        server_signature = hmac.new(credential.server_key, auth_message, self._digest).digest()
        return "v=" + base64.b64encode(server_signature).decode()
