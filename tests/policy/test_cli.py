"""``assay scan --ruleset`` / ``--fail-on`` over detection findings, and ``assay rulesets`` on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from services.engine.content.malware.analyzer import EICAR
from tests.realworld.scan import run_scan

RULESETS = Path(__file__).parent / "testdata" / "rulesets"


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "srv" / "drop").mkdir(parents=True)
    (root / "srv" / "drop" / "eicar.com").write_bytes(EICAR)
    return root


def test_fail_on_counts_detection_findings_and_a_ruleset_can_suppress_them(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    code, out, err = run_scan(f"dir:{root}", db=None, fmt="json", args=("--fail-on", "high"))
    assert code == 1, err
    report = json.loads(out)
    malware = [f for f in report["findings"] if f["category"] == "MaliciousFile"]
    assert [(f["id"], f["path"]) for f in malware] == [("eicar-test-file", "/srv/drop/eicar.com")]
    assert report["alert"] == "MaliciousFile 1 >= 1"  # the default ruleset alerts on one malicious file
    assert any(f["category"] == "ImageScan" for f in report["findings"])

    accept = tmp_path / "accept.yaml"
    accept.write_text(
        "name: accept-drop\nthresholds: {MaliciousFile: 1}\nrules:\n"
        "  - name: test-files\n    match: {category: MaliciousFile, path: /srv/drop/*}\n"
        "    action: {suppress: true, reason: antivirus test file}\n"
    )
    code, out, err = run_scan(
        f"dir:{root}", db=None, fmt="json", args=("--fail-on", "high", "--ruleset", str(accept))
    )
    assert code == 0, err
    report = json.loads(out)
    assert not [f for f in report["findings"] if f["category"] in ("MaliciousFile", "ImageScan")]
    (suppressed,) = [s for s in report["suppressed"] if s["kind"] == "ruleset"]
    assert suppressed["reason"] == "antivirus test file"
    assert suppressed["source"] == f"{accept}#test-files"
    assert report["alert"] == ""

    lower = tmp_path / "lower.yaml"
    lower.write_text(
        "name: lower\nrules:\n  - match: {category: MaliciousFile}\n    action: {severity: LOW}\n"
    )
    code, _, _ = run_scan(
        f"dir:{root}", db=None, fmt="json", args=("--fail-on", "medium", "--ruleset", str(lower))
    )
    assert code == 0
    code, _, _ = run_scan(
        f"dir:{root}", db=None, fmt="json", args=("--fail-on", "low", "--ruleset", str(lower))
    )
    assert code == 1


def test_a_bad_ruleset_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nrules:\n  - name: r\n    action: {suppress: true}\n")
    code, _, err = run_scan(f"dir:{_tree(tmp_path)}", db=None, fmt="json", args=("--ruleset", str(bad)))
    assert code == 2
    assert f"{bad}: rule 1 (r): a suppression needs a reason" in err


def _assay(pg_dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update(ASSAY_PG_DSN=pg_dsn, ASSAY_RULESETS_DIR=str(RULESETS))
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_rulesets_command_lists_shows_assigns_and_unassigns(pg_dsn: str) -> None:
    shown = _assay(pg_dsn, "rulesets", "show", "prod")
    assert shown.returncode == 0, shown.stderr
    assert "kev-is-critical: category=CVE, kev=True -> severity CRITICAL" in shown.stdout
    assigned = _assay(pg_dsn, "rulesets", "assign", "--ou", "payments", "prod")
    assert assigned.returncode == 0, assigned.stderr
    assert _assay(pg_dsn, "rulesets", "assign", "--environment", "cluster:dev", "lenient").returncode == 0
    unknown = _assay(pg_dsn, "rulesets", "assign", "--environment", "cluster:x", "nope")
    assert unknown.returncode == 2
    assert "no ruleset named 'nope'" in unknown.stderr
    listed = _assay(pg_dsn, "rulesets", "list")
    assert listed.returncode == 0, listed.stderr
    assert "2 assignments (others: default)" in listed.stdout
    assert "  environment cluster:dev -> lenient" in listed.stdout
    assert "  ou payments -> prod" in listed.stdout
    assert _assay(pg_dsn, "rulesets", "unassign", "--ou", "payments").returncode == 0
    assert _assay(pg_dsn, "rulesets", "unassign", "--ou", "payments").returncode == 1
    assert "ou payments" not in _assay(pg_dsn, "rulesets", "list").stdout
