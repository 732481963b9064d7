"""Debian's ``docker-registry`` over HTTPS, as a registry in a cluster is reached.

The chart's default install pulls anonymously over HTTPS (no ``ASSAY_REGISTRIES`` Secret, so no
registry is marked insecure). The test registry gets a certificate for 127.0.0.1 of its own; the
harness makes the pods trust it (``SSL_CERT_FILE``), as a cluster's nodes trust their registry CA.
"""

from __future__ import annotations

import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.harness.process import stop_process
from tests.harness.registry import RegistryServer, free_port

__all__ = ["TlsRegistry", "tls_registry"]

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class TlsRegistry:
    """A running HTTPS registry; ``ca_file`` is the certificate clients must trust."""

    server: RegistryServer  # for push_image (skopeo does not verify it)
    ca_file: Path
    log: Path  # the access log: one line per request

    def mark(self) -> int:
        """A position in the access log: ``fetched(..., since=mark)`` looks only after it."""
        return self.log.stat().st_size

    def fetched(self, path: str, *, since: int = 0) -> bool:
        """Whether any ``GET`` (after ``since``) asked for ``path`` (e.g. ``/v2/repo/blobs/sha256:…``)."""
        with self.log.open("rb") as log:
            log.seek(since)
            return f'"GET {path} '.encode() in log.read()

    @property
    def host(self) -> str:
        return self.server.host


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed key and certificate for 127.0.0.1 (``openssl req -x509``)."""
    key, cert = directory / "registry.key", directory / "registry.crt"
    argv = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    argv += ["-keyout", str(key), "-out", str(cert), "-days", "30", "-subj", "/CN=assay-test-registry"]
    subprocess.run(
        [*argv, "-addext", f"subjectAltName=IP:{LOOPBACK}"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return key, cert


def _wait_https(url: str, ca: Path, proc: subprocess.Popen[bytes], log: Path) -> None:
    context = ssl.create_default_context(cafile=str(ca))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited ({proc.returncode}): {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1, context=context):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not answer on {url}")


@contextmanager
def tls_registry(work_dir: Path) -> Iterator[TlsRegistry]:
    """``docker-registry serve`` on HTTPS at 127.0.0.1:PORT, anonymous, until the block ends."""
    work_dir.mkdir(parents=True, exist_ok=True)
    root = work_dir / "storage"
    root.mkdir(exist_ok=True)
    key, cert = _certificate(work_dir)
    port = free_port()
    config = work_dir / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn, accesslog: {disabled: false}}\n"  # requests in registry.log: what was pulled
        f"storage: {{filesystem: {{rootdirectory: {root}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}, secret: not-a-secret, tls: {{certificate: {cert}, key: {key}}}}}\n"
    )
    log = work_dir / "registry.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["docker-registry", "serve", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_https(f"https://127.0.0.1:{port}/v2/", cert, proc, log)
        yield TlsRegistry(RegistryServer(host=f"127.0.0.1:{port}", mode="anonymous", root=root), cert, log)
    finally:
        stop_process(proc)
