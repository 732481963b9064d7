"""The first admin token of a fresh install, so that authentication can be on from the start.

- In a cluster the chart generates it into a Secret, which reaches the API as
  ``ASSAY_AUTH_BOOTSTRAP_TOKEN``; the API registers its hash at start (``Access.lifespan``).
- ``assay up`` (and so ``make demo``) makes one per run with ``local_admin_token``: the API
  registers it the same way (replacing the previous run's), ``assay up`` prints it once and keeps
  it in ``<data_dir>/up/admin-token`` (mode 0600) for ``ASSAY_API_TOKEN=$(cat …)``.
"""

from __future__ import annotations

import os
from pathlib import Path

from services.api.auth.tokens import new_token

__all__ = ["local_admin_token"]


def local_admin_token(configured: str, state_dir: Path) -> tuple[str, Path]:
    """The bootstrap token to run with (``configured``, else a new one) and the 0600 file holding it."""
    token = configured or new_token()[0]
    path = state_dir / "admin-token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(fd, 0o600)
        out.write(token + "\n")
    return token, path
