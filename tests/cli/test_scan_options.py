"""Trivy-style ``assay scan`` options: --severity, --scanners, --skip-dirs/--skip-files, --exit-code,
--timeout, and ``.assayignore`` read from the working directory.

The end-to-end cases run the real ``assay scan`` on a ``dir:`` tree holding a Python package and
the EICAR test file (a MaliciousFile finding) in different directories.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from schemas.records import Detection, Finding, ImageInfo, PackageRecord, Unknown
from services.cli.scan_filter import ShowFilter, compile_globs, filter_report
from services.engine.content.malware.analyzer import EICAR
from services.policy.report import Report
from tests.realworld.scan import run_scan


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    dist = root / "app" / "lib" / "site-packages" / "requests-2.19.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\n")
    (root / "srv" / "drop").mkdir(parents=True)
    (root / "srv" / "drop" / "eicar.com").write_bytes(EICAR)
    return root


def _categories(out: str) -> set[str]:
    return {f["category"] for f in json.loads(out)["findings"]}


def test_skip_dirs_and_files_leave_out_what_is_found_there(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    code, out, err = run_scan(f"dir:{root}", db=None, fmt="json")
    assert code == 0, err
    report = json.loads(out)
    assert "MaliciousFile" in _categories(out)
    assert "requests" in {p["name"] for p in report["packages"]}
    code, out, err = run_scan(f"dir:{root}", db=None, fmt="json", args=("--skip-dirs", "srv/drop"))
    assert code == 0, err
    assert "MaliciousFile" not in _categories(out)
    assert "requests" in {p["name"] for p in json.loads(out)["packages"]}
    code, out, _ = run_scan(f"dir:{root}", db=None, fmt="json", args=("--skip-files", "**/*.com"))
    assert "MaliciousFile" not in _categories(out)
    code, out, _ = run_scan(f"dir:{root}", db=None, fmt="json", args=("--skip-dirs", "**/site-packages"))
    assert "requests" not in {p["name"] for p in json.loads(out)["packages"]}


def test_scanners_choose_the_analyzers(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    code, out, err = run_scan(f"dir:{root}", db=None, fmt="json", args=("--scanners", "vuln,secret"))
    assert code == 0, err
    assert "MaliciousFile" not in _categories(out)
    code, out, _ = run_scan(f"dir:{root}", db=None, fmt="json", args=("--scanners", "malware"))
    assert "MaliciousFile" in _categories(out)
    code, _, err = run_scan(f"dir:{root}", db=None, fmt="json", args=("--scanners", "vulns"))
    assert code == 2
    assert "unknown scanner vulns" in err


def test_exit_code_and_severity_decide_together(tmp_path: Path) -> None:
    root = _tree(tmp_path)  # EICAR is a HIGH MaliciousFile finding under the default ruleset
    code, _, _ = run_scan(f"dir:{root}", db=None, fmt="json", args=("--exit-code", "7"))
    assert code == 7
    code, out, _ = run_scan(
        f"dir:{root}", db=None, fmt="json", args=("--exit-code", "7", "--severity", "LOW")
    )
    assert code == 0
    assert json.loads(out)["findings"] == []
    code, _, _ = run_scan(f"dir:{root}", db=None, fmt="json", args=("--fail-on", "high", "--exit-code", "3"))
    assert code == 3


def test_timeout_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run_scan(f"dir:{_tree(tmp_path)}", db=None, fmt="json", args=("--timeout", "0.001"))
    assert code == 2
    assert "did not finish within 0.001s" in err


def test_assayignore_in_the_working_directory_is_read(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    (work / ".assayignore").write_text("CVE-2018-18074 requests exp:not-a-date\n")
    env = {**os.environ, "ASSAY_DB_PATH": "/nonexistent/assay.sqlite"}
    env.pop("ASSAY_CONFIG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "scan", f"dir:{root}", "--format", "json"],
        cwd=work,
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert ".assayignore" in proc.stderr  # its bad expiry is reported: the file was read


def test_filter_report_recounts_and_keeps_packages_found_elsewhere_too() -> None:
    kept = PackageRecord(
        name="a", version="1", type="pypi", purl="pkg:pypi/a@1", locations=["/app/a", "/test/a"]
    )
    gone = PackageRecord(name="b", version="1", type="pypi", purl="pkg:pypi/b@1", locations=["/test/b"])
    findings = [
        Finding(finding_id="1", category="CVE", id="CVE-1", severity="HIGH", title="", purl=kept.purl),
        Finding(finding_id="2", category="CVE", id="CVE-2", severity="CRITICAL", title="", purl=gone.purl),
        Finding(finding_id="3", category="CVE", id="CVE-3", severity="LOW", title="", purl=kept.purl),
    ]
    report = Report(
        image=ImageInfo(ref="x"),
        packages=[kept, gone],
        findings=findings,
        counts={"CRITICAL": 1, "HIGH": 1, "LOW": 1},
        unknowns=[Unknown(path="/test/c", reason="r"), Unknown(path="/app/c", reason="r")],
        detections=[
            Detection(category="InsecureContent", rule_id="r", severity="HIGH", title="", path="/test/k")
        ],
    )
    shown = filter_report(report, ShowFilter(skip_dirs=["test"], severities=["high", "critical"]))
    assert [p.name for p in shown.packages] == ["a"]
    assert [f.id for f in shown.findings] == ["CVE-1"]
    assert shown.counts["HIGH"] == 1
    assert shown.counts["CRITICAL"] == 0
    assert [u.path for u in shown.unknowns] == ["/app/c"]
    assert shown.detections == []
    assert filter_report(report, ShowFilter()) is report


def test_globs_follow_trivy_paths() -> None:
    pattern = compile_globs(["**/node_modules", "usr/lib/*", "./opt/app/"])
    assert pattern is not None
    assert pattern.match("node_modules")
    assert pattern.match("srv/web/node_modules")
    assert pattern.match("usr/lib/python3")
    assert not pattern.match("usr/lib/python3/dist")
    assert pattern.match("opt/app")
    assert not pattern.match("opt/application")
    assert compile_globs(["", "/"]) is None
