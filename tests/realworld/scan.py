"""Run the real ``assay scan`` command on a target and read its output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_scan(target: str, *, db: Path | None, fmt: str, args: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``assay scan TARGET --format FMT`` (no DB: matching off)."""
    env = dict(os.environ)
    env.pop("ASSAY_CONFIG", None)
    env["ASSAY_DB_PATH"] = str(db) if db else "/nonexistent/assay-no-db.sqlite"
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "scan", target, "--format", fmt, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def assay_scan(
    target: str, *, db: Path | None, args: tuple[str, ...] = ()
) -> tuple[int, dict[str, Any], str]:
    """Exit code, the decoded JSON report (empty on error) and stderr."""
    code, stdout, stderr = run_scan(target, db=db, fmt="json", args=args)
    return code, json.loads(stdout) if stdout.strip() else {}, stderr
