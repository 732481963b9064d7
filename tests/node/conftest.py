"""A real containerd holding the Debian fixture image, and the node daemon started on it.

containerd runs from Debian's package with its own root, state and socket under the test's
temporary directory (``tests/harness/containerd.py``); the image is imported with
``ctr -n k8s.io images import --no-unpack`` (content only: ~0.5 GB, no snapshots). The daemon is
``assay service node`` in a child process, publishing to the session's real broker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.oci.nodetoken import generate_keypair, load_private_key, mint
from tests.harness.broker import unique_name
from tests.harness.containerd import Containerd, containerd_server
from tests.harness.process import stop_process
from tests.harness.registry import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGE = "docker.io/fixture/debian:latest"


@dataclass(frozen=True)
class NodeDaemon:
    """A running ``assay service node``: where it serves, as what, and its process."""

    address: str  # HOST:PORT, also the advertised registry
    cluster: str
    key: str  # the engines' signing key (base64); the daemon has only its public half
    proc: subprocess.Popen[bytes]
    log: Path

    def bearer(self, repository: str) -> dict[str, str]:
        """An engine's ``Authorization`` header for pulling ``repository`` from this daemon."""
        token = mint(load_private_key(self.key), self.address, repository, time.time())
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def containerd(fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containerd]:
    """containerd with the Debian fixture's docker-archive imported into ``k8s.io``."""
    with containerd_server(tmp_path_factory.mktemp("containerd")) as ctrd:
        ctrd.ctr("images", "import", "--no-unpack", str(fixtures / "debian-docker.tar"))
        yield ctrd


@pytest.fixture(scope="session")
def image_digest(containerd: Containerd) -> str:
    """The imported image's manifest digest, as ``ctr images ls`` prints it."""
    for line in containerd.ctr("images", "ls").splitlines()[1:]:
        fields = line.split()
        if fields and fields[0] == IMAGE:
            return next(f for f in fields if f.startswith("sha256:"))
    raise AssertionError(f"{IMAGE} is not in containerd: {containerd.ctr('images', 'ls')}")


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the node daemon exited ({proc.returncode}): {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the node daemon did not answer {url}: {log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def node_daemon(
    containerd: Containerd, kafka_servers: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NodeDaemon]:
    """``assay service node`` on the test containerd, reporting every second."""
    work = tmp_path_factory.mktemp("node")
    port = free_port()
    address = f"127.0.0.1:{port}"
    cluster = unique_name("node-test")
    private_key, public_key = generate_keypair()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update(
        ASSAY_KAFKA_BOOTSTRAP=kafka_servers,
        ASSAY_DATA_DIR=str(work / "data"),
        ASSAY_NODE_NAME="node-1",
        ASSAY_NODE_CLUSTER=cluster,
        ASSAY_CONTAINERD_SOCKET=containerd.socket,
        ASSAY_NODE_LISTEN=address,
        ASSAY_NODE_ADVERTISE=address,
        ASSAY_NODE_PUBLIC_KEY=public_key,
        ASSAY_NODE_REPORT_INTERVAL_S="1",
    )
    log = work / "node.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "service", "node"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(f"http://{address}/healthz", proc, log)
        yield NodeDaemon(address=address, cluster=cluster, key=private_key, proc=proc, log=log)
    finally:
        stop_process(proc, timeout=20)
