"""``assay scan`` on every hostile case of issue 18: a clear one-line error or a bounded result.

Each case (``generate.py``) is built in a temporary directory and scanned by the real command
in a subprocess, with a time limit. Never a traceback, a hang or an unbounded report: either
exit 2 with one ``assay: error:`` line naming the target and the problem, or exit 0 with a
report whose size and unknowns stay within the scan budget.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.engine.budget import ScanBudget
from tests.hostile.generate import CASES, build_all, remove_cases

# cases where the issue asks for a clear error, and what the error must say
ERRORS = {
    "nested-index-json": "index.json: JSON nested more than 32 levels deep",
    "nested-manifest": "JSON nested more than 32 levels deep",
    "nested-config": "JSON nested more than 32 levels deep",
    "nested-docker-manifest-json": "manifest.json: JSON nested more than 32 levels deep",
    "oci-archive-nested-index": "index.json: JSON nested more than 32 levels deep",
    "wrong-types-history": "Expected `array | null`, got `int` - at `$.history`",
    "wrong-types-diff-ids": "got `int` - at `$.rootfs.diff_ids`",
    "wrong-types-repo-tags": "got `int` - at `$[0].RepoTags`",
    "wrong-types-manifests": "got `int` - at `$.manifests`",
    "wrong-types-size-string": "Expected `int`, got `str` - at `$.layers[0].size`",
    "index-json-dev-zero": "index.json: not a regular file",
    "index-json-sparse-1gib": "index.json: 1073741824 bytes is more than the",
    "layer-blob-fifo": "not a regular file",
    "gzip-bomb-1gib": "scan budget layer_bytes_max exceeded",
    "dir-1500-levels": "scan budget path_depth_max exceeded",
}
REPORT_MAX_BYTES = 16 << 20


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("hostile")
    yield build_all(root)
    remove_cases(root)


def scan(target: str, out: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env["ASSAY_DATA_DIR"] = str(data_dir)
    env["ASSAY_DB_PATH"] = str(data_dir / "no-advisories.db")
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", "scan", target, "--format", "json", "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("name", list(CASES))
def test_each_hostile_case_ends_in_a_clear_error_or_a_bounded_result(
    targets: dict[str, str], name: str, tmp_path: Path
) -> None:
    target = targets[name]
    out = tmp_path / "report.json"
    proc = scan(target, out, tmp_path / "data")
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("assay: error:")]
    if name in ERRORS:
        assert proc.returncode == 2, proc.stderr[-3000:]
        [line] = errors  # one line, naming the target and the problem
        assert target in line
        assert ERRORS[name] in line
        return
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert errors == []
    assert out.stat().st_size < REPORT_MAX_BYTES
    report = json.loads(out.read_bytes())
    assert len(report["unknowns"]) <= ScanBudget().unknowns_max + 1  # then one summary line
    assert report["image"]["ref"] == target
