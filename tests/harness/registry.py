"""A real OCI registry for tests: Debian's ``docker-registry`` (distribution 2.8) on loopback.

Plain functions and context managers (no pytest fixtures) so any conftest can use them::

    with registry_server(tmp / "reg", mode="token") as reg:
        push_image(reg, f"oci:{layout}:alpha", "fixture/alpha:latest")
        cfg = reg.config()          # a RegistryConfig for Assay (insecure, with credentials)

Modes: ``anonymous``; ``basic`` (htpasswd, user ``fixture`` / ``s3cret``, bcrypt);
``token`` (Bearer tokens from ``tests.harness.token_server`` in a thread). Each server
gets a free port and its own storage directory, and is stopped on exit.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from services.common.config import RegistryConfig
from tests.harness.process import stop_process
from tests.harness.token_server import ISSUER, SERVICE, TokenServer, make_key_and_cert, token_server

__all__ = [
    "MODES",
    "PASSWORD",
    "USERNAME",
    "IndexEntry",
    "RegistryServer",
    "free_port",
    "push_image",
    "put_index",
    "put_manifest",
    "registry_server",
    "require_tools",
    "skopeo",
]

MODES = ("anonymous", "basic", "token")
USERNAME = "fixture"
PASSWORD = "s3cret"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def require_tools(*names: str) -> None:
    """Skip the test when a binary is missing, unless ``CI`` is set: then fail instead."""
    missing = [n for n in names if shutil.which(n) is None]
    if not missing:
        return
    reason = f"needs {', '.join(missing)} (apt-get install umoci skopeo docker-registry apache2-utils)"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited ({proc.returncode}): {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # 401 from an auth mode: it is up
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not answer on {url} within {timeout}s")


@dataclass(frozen=True)
class RegistryServer:
    """A running registry: ``host`` is ``127.0.0.1:PORT``; ``root`` its storage directory."""

    host: str
    mode: str
    root: Path
    username: str = ""
    password: str = ""
    token: TokenServer | None = None

    @property
    def url(self) -> str:
        """``http://host``."""
        return f"http://{self.host}"

    @property
    def creds(self) -> str:
        """``user:password`` for skopeo, or empty for anonymous."""
        return f"{self.username}:{self.password}" if self.username else ""

    def config(self, *, username: str | None = None, password: str | None = None) -> RegistryConfig:
        """Assay's configuration for this registry (insecure: plain HTTP), credentials included.

        In ``token`` mode the token server (another port) is listed in ``auth_hosts``: Assay
        sends credentials only to the registry's own host and the hosts listed there.
        """
        return RegistryConfig(
            host=self.host,
            insecure=True,
            username=self.username if username is None else username,
            password=self.password if password is None else password,
            auth_hosts=[urlsplit(self.token.realm).netloc] if self.token is not None else [],
        )

    def blob_data_path(self, digest: str) -> Path:
        """Where the registry stores a blob's bytes on disk."""
        hexpart = digest.split(":", 1)[1]
        return self.root / "docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"


def _write_config(
    path: Path, root: Path, port: int, auth: str, notify: tuple[str, str] | None = None
) -> None:
    notifications = ""
    if notify is not None:  # the registry's own notifications: POSTs of event envelopes, retried
        url, token = notify
        notifications = (
            f"notifications: {{endpoints: [{{name: assay, url: '{url}', timeout: 2s, threshold: 3, "
            f"backoff: 200ms, headers: {{Authorization: ['Bearer {token}']}}}}]}}\n"
        )
    path.write_text(
        "version: 0.1\n"
        "log: {level: warn, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {root}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}, secret: not-a-secret}}\n"
        f"{auth}\n"
        f"{notifications}"
    )


@contextmanager
def registry_server(
    work_dir: Path,
    mode: str = "anonymous",
    *,
    username: str = USERNAME,
    password: str = PASSWORD,
    notify: Callable[[str], tuple[str, str]] | None = None,
) -> Iterator[RegistryServer]:
    """Start ``docker-registry serve`` in ``mode`` on a free port; stop it (and its token server) on exit.

    ``username``/``password`` replace the fixture credentials (e.g. ECR's ``AWS`` + token).
    ``notify(host)`` gives (URL, bearer token) of a notifications endpoint for the registry at ``host``.
    """
    if mode not in MODES:
        raise ValueError(f"unknown registry mode {mode!r}; choose from {MODES}")
    work_dir.mkdir(parents=True, exist_ok=True)
    root = work_dir / "storage"
    root.mkdir(exist_ok=True)
    with ExitStack() as stack:
        auth = ""
        token: TokenServer | None = None
        if mode == "basic":
            htpasswd = subprocess.run(
                ["htpasswd", "-Bbn", username, password], check=True, capture_output=True, timeout=30
            ).stdout
            (work_dir / "htpasswd").write_bytes(htpasswd)
            auth = f"auth: {{htpasswd: {{realm: fixture-realm, path: {work_dir / 'htpasswd'}}}}}"
        elif mode == "token":
            key, cert = make_key_and_cert(work_dir)
            token = stack.enter_context(token_server(key, cert, users={username: password}))
            auth = (
                f"auth: {{token: {{realm: '{token.realm}', service: {SERVICE}, issuer: {ISSUER}, "
                f"rootcertbundle: {cert}}}}}"
            )
        port = free_port()
        config = work_dir / "registry.yml"
        _write_config(config, root, port, auth, notify(f"127.0.0.1:{port}") if notify else None)
        log = work_dir / "registry.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["docker-registry", "serve", str(config)], stdout=out, stderr=subprocess.STDOUT
            )
        try:
            _wait_http(f"http://127.0.0.1:{port}/v2/", proc, log)
            with_creds = mode != "anonymous"
            yield RegistryServer(
                host=f"127.0.0.1:{port}",
                mode=mode,
                root=root,
                username=username if with_creds else "",
                password=password if with_creds else "",
                token=token,
            )
        finally:
            stop_process(proc)


def skopeo(*args: str) -> None:
    """Run ``skopeo`` quietly; raise with its stderr on failure."""
    result = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"skopeo {' '.join(args)} failed: {result.stderr.strip()}")


def push_image(server: RegistryServer, source: str, repo_tag: str) -> None:
    """``skopeo copy SOURCE docker://HOST/REPO:TAG`` (source: ``oci:DIR:TAG``, ``docker-archive:FILE``...)."""
    args = ["copy", "-q", "--dest-tls-verify=false"]
    if server.creds:
        args += ["--dest-creds", server.creds]
    skopeo(*args, source, f"docker://{server.host}/{repo_tag}")


def _authorization(server: RegistryServer, challenge: str, scope: str) -> str:
    basic = "Basic " + base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
    if challenge.lower().startswith("basic"):
        return basic
    assert server.token is not None, "Bearer challenge from a registry without a token server"
    url = f"{server.token.realm}?service={SERVICE}&scope={scope}"
    request = urllib.request.Request(url, headers={"Authorization": basic} if server.username else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return "Bearer " + str(json.loads(response.read())["token"])


def _send(
    server: RegistryServer, method: str, path: str, scope: str, body: bytes, headers: Mapping[str, str]
) -> Any:
    url = f"{server.url}{path}"
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    try:
        return urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as exc:
        if exc.code != 401:
            raise
        challenge = exc.headers.get("WWW-Authenticate", "")
    request.add_header("Authorization", _authorization(server, challenge, scope))
    return urllib.request.urlopen(request, timeout=10)


def put_manifest(server: RegistryServer, repository: str, tag: str, data: bytes, media_type: str) -> str:
    """PUT a manifest (or index) by tag, authenticating as the registry asks; returns its digest."""
    scope = f"repository:{repository}:pull,push"
    headers = {"Content-Type": media_type}
    with _send(server, "PUT", f"/v2/{repository}/manifests/{tag}", scope, data, headers) as response:
        assert response.status == 201, response.status
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_descriptor(server: RegistryServer, repository: str, tag: str) -> tuple[str, int, str]:
    """``(digest, size, media type)`` of a manifest in the registry, for building an index."""
    scope = f"repository:{repository}:pull"
    accept = (
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
    )
    with _send(server, "GET", f"/v2/{repository}/manifests/{tag}", scope, b"", {"Accept": accept}) as r:
        body = r.read()
        media_type = r.headers.get("Content-Type", "").split(";")[0]
    return "sha256:" + hashlib.sha256(body).hexdigest(), len(body), media_type


@dataclass(frozen=True)
class IndexEntry:
    """One platform of a hand-made index: a tag already pushed to the same repository."""

    tag: str
    platform: str  # os/arch[/variant]


def put_index(server: RegistryServer, repository: str, tag: str, entries: Sequence[IndexEntry]) -> str:
    """PUT an OCI image index over manifests already pushed by tag (recipe section 3); returns its digest."""
    manifests = []
    for entry in entries:
        digest, size, media_type = manifest_descriptor(server, repository, entry.tag)
        parts = entry.platform.split("/")
        platform: dict[str, str] = {"os": parts[0], "architecture": parts[1]}
        if len(parts) > 2:
            platform["variant"] = parts[2]
        manifests.append({"mediaType": media_type, "digest": digest, "size": size, "platform": platform})
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    return put_manifest(server, repository, tag, json.dumps(index).encode(), OCI_INDEX)
