"""A real containerd for tests: Debian's ``containerd`` with its own root, state and socket.

Plain functions and a context manager (no pytest fixtures)::

    with containerd_server(tmp / "ctrd") as ctrd:
        ctrd.ctr("images", "import", str(archive))      # in the k8s.io namespace
        ctrd.socket                                       # for the CRI and containerd APIs

containerd needs root (it mounts snapshots and owns its state); tests skip without it, or
fail when ``CI`` is set. Everything lives under the given directory, nothing touches the
system's containerd, and the daemon is killed on exit. CNI is not configured: image
operations need none. The socket path must stay short (unix sockets hold about 100 bytes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.harness.process import stop_process
from tests.harness.requirements import require

__all__ = ["Containerd", "containerd_server", "require_containerd"]

K8S_NAMESPACE = "k8s.io"

_CONFIG = """version = 2
root = "{root}"
state = "{state}"
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[debug]
  address = "{sock}.debug"
[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
"""


@dataclass(frozen=True)
class Containerd:
    """A running containerd: its socket and a ``ctr`` runner bound to it."""

    socket: str
    root: Path
    log: Path

    def ctr(self, *args: str, namespace: str = K8S_NAMESPACE, timeout: float = 300.0) -> str:
        """Run ``ctr -a SOCKET -n NAMESPACE ARGS...``; its stdout (raises with stderr on failure)."""
        done = subprocess.run(
            ["ctr", "-a", self.socket, "-n", namespace, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"ctr {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done.stdout


def require_containerd() -> None:
    """Skip (fail under ``CI``) unless containerd and ctr are installed and we are root."""
    missing = [n for n in ("containerd", "ctr") if shutil.which(n) is None]
    require(not missing, f"needs {', '.join(missing)} (apt-get install containerd)")
    require(os.geteuid() == 0, "containerd needs root")


def _wait_socket(sock: Path, proc: subprocess.Popen[bytes], log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"containerd exited ({proc.returncode}): {log.read_text()[-3000:]}")
        if sock.exists():
            done = subprocess.run(
                ["ctr", "-a", str(sock), "version"], capture_output=True, timeout=10, check=False
            )
            if done.returncode == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"containerd did not answer on {sock} in {timeout:.0f}s: {log.read_text()[-3000:]}")


@contextmanager
def containerd_server(work: Path) -> Iterator[Containerd]:
    """Start containerd with root and state under ``work``; kill it and unmount on exit."""
    require_containerd()
    work.mkdir(parents=True, exist_ok=True)
    root, state = work / "root", work / "state"
    # unix socket paths are short: keep the socket in a short temporary directory
    sock_dir = Path(tempfile.mkdtemp(prefix="ctrd-", dir="/tmp"))
    sock = sock_dir / "containerd.sock"
    config = work / "config.toml"
    config.write_text(_CONFIG.format(root=root, state=state, sock=sock))
    log = work / "containerd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["containerd", "--config", str(config)], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_socket(sock, proc, log)
        yield Containerd(socket=str(sock), root=root, log=log)
    finally:
        stop_process(proc, timeout=15)
        _unmount_below(root)
        shutil.rmtree(sock_dir, ignore_errors=True)
        # the content store and snapshots are large: do not leave them behind
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)


def _unmount_below(root: Path) -> None:
    """Unmount anything containerd left mounted under ``root`` (normally nothing)."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    prefix = str(root)
    for line in reversed(mounts):
        fields = line.split()
        if len(fields) > 1 and fields[1].startswith(prefix):
            subprocess.run(["umount", "-l", fields[1]], capture_output=True, check=False)
