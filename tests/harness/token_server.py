"""A minimal Docker-registry bearer-token server (distribution ``token`` auth) for tests.

Issues RS256 JWTs the way Docker Hub, GHCR and Quay do: the registry trusts the
certificate in its ``rootcertbundle``, and the token's ``kid`` is the libtrust key id of
that certificate. Anonymous callers get ``pull`` only; known users get what they ask for.

Run in a thread with :func:`token_server` (tests), or as a process::

    python tests/harness/token_server.py PORT KEY.pem CERT.pem
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

__all__ = ["ISSUER", "SERVICE", "TokenServer", "TokenState", "make_key_and_cert", "token_server"]

ISSUER = "fixture-issuer"
SERVICE = "fixture-registry"


def make_key_and_cert(directory: Path) -> tuple[Path, Path]:
    """Write a fresh RSA key and self-signed certificate (``token.key``, ``token.crt``)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fixture-token-issuer")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / "token.key", directory / "token.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def libtrust_kid(cert: x509.Certificate) -> str:
    """The key id distribution derives from a ``rootcertbundle`` certificate."""
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i : i + 4] for i in range(0, 48, 4))


@dataclass
class TokenState:
    """What the server issues and what tests can observe or change while it runs.

    ``token_field``: ``"both"``, ``"token"`` or ``"access_token"`` (which JSON keys carry it).
    ``issued`` counts tokens per (user, scope string).
    """

    key_pem: str
    kid: str
    users: Mapping[str, str]
    token_field: str = "both"
    expires_in: int = 300
    issued: dict[tuple[str, str], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(state: TokenState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            user = ""
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                if state.users.get(name) != password:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                user = name
            access: list[dict[str, Any]] = []
            scopes = query.get("scope", [])
            for scope in scopes:
                typ, name, actions = scope.split(":", 2) if scope.count(":") >= 2 else (scope, "", "")
                acts = actions.split(",")
                if not user:
                    acts = [a for a in acts if a == "pull"]
                access.append({"type": typ, "name": name, "actions": acts})
            now = int(time.time())
            claims = {
                "iss": ISSUER,
                "sub": user,
                "aud": query.get("service", [SERVICE])[0],
                "exp": now + state.expires_in,
                "nbf": now - 10,
                "iat": now,
                "jti": uuid.uuid4().hex,
                "access": access,
            }
            token = jwt.encode(claims, state.key_pem, algorithm="RS256", headers={"kid": state.kid})
            with state.lock:
                key = (user, " ".join(scopes))
                state.issued[key] = state.issued.get(key, 0) + 1
            doc: dict[str, Any] = {"expires_in": state.expires_in}
            if state.token_field in ("both", "token"):
                doc["token"] = token
            if state.token_field in ("both", "access_token"):
                doc["access_token"] = token
            body = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@dataclass(frozen=True)
class TokenServer:
    """A running token server: its realm URL and mutable ``state``."""

    realm: str
    port: int
    state: TokenState


@contextmanager
def token_server(
    key_path: Path, cert_path: Path, *, users: Mapping[str, str] | None = None, port: int = 0
) -> Iterator[TokenServer]:
    """Serve tokens on 127.0.0.1 (a free port unless given) in a thread; stop on exit."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    state = TokenState(
        key_pem=key_path.read_text(), kid=libtrust_kid(cert), users=dict(users or {"fixture": "s3cret"})
    )
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="token-server", daemon=True)
    thread.start()
    try:
        bound = server.server_address[1]
        yield TokenServer(realm=f"http://127.0.0.1:{bound}/token", port=int(bound), state=state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: list[str]) -> None:
    """``token_server.py PORT KEY CERT``: serve until killed."""
    with token_server(Path(argv[2]), Path(argv[3]), port=int(argv[1])):
        threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv)
