"""Per-process copies: which are left by a process that is gone (the advisory build cache and the
engine's content bundles clean up with this)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.common.files import left_by_a_dead_process, write_atomic


def test_only_a_finished_process_leaves_its_copy_behind() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid names no process now (pids are not reused this fast)
    assert left_by_a_dead_process(str(child.pid))
    assert not left_by_a_dead_process(str(os.getpid()))  # this process
    assert not left_by_a_dead_process(str(os.getppid()))  # alive
    assert not left_by_a_dead_process("1a")  # not a pid


def test_write_atomic_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "d" / "f.bin"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["f.bin"]
