"""Files a process owns: writing one so readers see the old bytes or the new, never half (a
temporary file beside it, then ``os.replace``; removed when the write fails), and telling whether
a per-process copy (named by its owner's pid) was left behind by a process that is gone."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["left_by_a_dead_process", "write_atomic"]


def write_atomic(path: Path, data: bytes, *, prefix: str = ".tmp-") -> None:
    """Replace ``path`` with ``data`` atomically (creating its directory); ``OSError`` as raised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def left_by_a_dead_process(pid: str) -> bool:
    """True when ``pid`` (from a file name) names no running process: its copy can go. Not this
    process, not one that is alive (another user's included), and not a name that is no pid."""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False
