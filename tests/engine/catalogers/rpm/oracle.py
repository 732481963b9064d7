"""rpm itself as the oracle: what ``rpm -qa`` says a database holds."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.harness.requirements import require

QUERY_FORMAT = "%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM}\\n"


def rpm_qa(db_file: Path, backend: str = "") -> set[tuple[str, str, str, str]]:
    """(name, epoch:version-release, arch, sourcerpm) per package, as Debian's rpm reads a copy of the db."""
    require(shutil.which("rpm") is not None, "Debian's rpm is not installed (apt-get install rpm)")
    with tempfile.TemporaryDirectory(prefix="assay-rpm-oracle-") as tmp:
        shutil.copy(db_file, Path(tmp) / db_file.name)  # rpm writes lock/WAL files beside the db
        cmd = ["rpm", "--dbpath", tmp, "-qa", "--qf", QUERY_FORMAT]
        if backend:
            cmd[1:1] = ["--define", f"_db_backend {backend}"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return {tuple(line.split(" ")) for line in out.splitlines() if line}  # type: ignore[misc]
