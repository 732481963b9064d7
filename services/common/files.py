"""Writing a file so readers see the old bytes or the new, never half: a temporary file beside
it, then ``os.replace``. The temporary file is removed when the write fails."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]


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
