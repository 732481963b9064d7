"""benchmarks/compare_reports.py: volatile fields are ignored, every other difference is reported."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "compare_reports.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compare_reports", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(root: Path, report: dict[str, object], stderr: str) -> Path:
    root.mkdir()
    (root / "debian.json").write_text(json.dumps(report))
    meta = {"target": "oci:x", "args": [], "exit": 0, "stderr": stderr}
    (root / "debian.meta.json").write_text(json.dumps(meta))
    return root


def test_only_volatile_fields_and_temp_paths_may_differ(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compare = _module().compare
    report = {"image": {"ref": "oci:x"}, "findings": [{"id": "CVE-1", "severity": "HIGH"}], "notes": []}
    base = _write(
        tmp_path / "a",
        {
            **report,
            "generated_at": "2026-01-01T00:00:00Z",
            "notes": ["/tmp/compare-reports-abc1/data/feeds.json"],
        },
        "warning: /tmp/compare-reports-abc1/data",
    )
    same = _write(
        tmp_path / "b",
        {
            **report,
            "generated_at": "2026-02-02T00:00:00Z",
            "notes": ["/tmp/compare-reports-xyz9/data/feeds.json"],
        },
        "warning: /tmp/compare-reports-xyz9/data",
    )
    assert compare(base, same) == 0
    assert "2/2 files identical" in capsys.readouterr().out
    changed = _write(
        tmp_path / "c",
        {**report, "findings": [{"id": "CVE-1", "severity": "LOW"}], "generated_at": "x"},
        "warning: /tmp/compare-reports-abc1/data",
    )
    assert compare(base, changed) == 1
    out = capsys.readouterr().out
    assert "debian.json: DIFFERENT" in out
    lines = [line.replace(" ", "") for line in out.splitlines()]
    assert '-"severity":"HIGH"' in lines
    assert '+"severity":"LOW"' in lines
