"""Run the real ``assay scan`` command on a target and read its JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def assay_scan(
    target: str, *, db: Path | None, args: tuple[str, ...] = ()
) -> tuple[int, dict[str, Any], str]:
    """Exit code, the decoded JSON report (empty on error) and stderr."""
    env = dict(os.environ)
    env.pop("ASSAY_CONFIG", None)
    env["ASSAY_DB_PATH"] = str(db) if db else "/nonexistent/assay-no-db.sqlite"
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "scan", target, "--format", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, report, proc.stderr
