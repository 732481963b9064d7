"""Suppression applies in both modes: a ruleset's ignore files, VEX documents and ``ignore_unfixed``
suppress the same matches in ``assay scan`` (``assess``) and in the policy service (the handler).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from schemas.events import FindingEvent, ScanCompleted
from schemas.records import ImageInfo, VulnMatch
from services.common.store.postgres import Store
from services.policy.assess import assess
from services.policy.catalog import load_ruleset_file, load_rulesets
from services.policy.rules import RulesetError
from services.policy.service import make_policy_handler
from services.policy.suppress_accept import Acceptance
from tests.realworld.scan import assay_scan

DIGEST = "sha256:" + "5e" * 32
REF = f"registry.example.com/app@{DIGEST}"
TODAY = dt.date(2026, 12, 1)


def _match(cve: str, package: str, **kw: object) -> VulnMatch:
    return VulnMatch(
        vuln_id=cve,
        package_name=package,
        package_version="1.0-1",
        package_purl=f"pkg:deb/debian/{package}@1.0-1",
        severity="HIGH",
        **kw,  # type: ignore[arg-type]
    )


IGNORED = _match("CVE-2024-0001", "openssl", fixed_version="1.0-2", fix_state="fixed")
NOT_AFFECTED = _match("CVE-2024-0002", "curl", fixed_version="1.0-2", fix_state="fixed")
UNFIXED = _match("CVE-2024-0003", "zlib", fix_state="not-fixed")
KEPT = _match("CVE-2024-0004", "bash", fixed_version="1.0-2", fix_state="fixed")
SCAN = ScanCompleted(
    scan_id="s1",
    image=ImageInfo(ref=REF, digest=DIGEST),
    matches=[IGNORED, NOT_AFFECTED, UNFIXED, KEPT],
    completed_at="2026-12-01T10:00:00Z",
)


def _ruleset_dir(root: Path, name: str = "default") -> Path:
    """A ruleset naming an ignore file (one live entry, one expired) and a VEX document beside it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "accept.assayignore").write_text(
        "CVE-2024-0001 pkg:deb/debian/openssl exp:2099-01-01  # patched in our base image\n"
        "CVE-2024-0004 exp:2020-01-01  # was accepted until 2020\n"
    )
    (root / "vex").mkdir(exist_ok=True)
    statement = {
        "vulnerability": {"name": "CVE-2024-0002"},
        "products": [{"@id": f"pkg:oci/app@{DIGEST.replace(':', '%3A')}"}],
        "status": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path",
    }
    doc = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "statements": [statement]}
    (root / "vex" / "app.openvex.json").write_text(json.dumps(doc))
    (root / "accepting.yaml").write_text(
        f"name: {name}\n"
        "ignore_files: [accept.assayignore]\n"
        "vex: [vex/app.openvex.json]\n"
        "ignore_unfixed: true\n"
    )
    return root


def test_a_ruleset_reads_its_ignore_files_and_vex_documents_relative_to_itself(tmp_path: Path) -> None:
    ruleset = load_ruleset_file(_ruleset_dir(tmp_path / "rs") / "accepting.yaml")
    assert [r.id for r in ruleset.acceptance.rules] == ["CVE-2024-0001", "CVE-2024-0004"]
    assert [s.vulnerability for s in ruleset.acceptance.statements] == [("CVE-2024-0002",)]
    assert ruleset.acceptance.ignore_unfixed


def test_a_ruleset_naming_a_missing_file_is_an_error_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nvex: [nowhere.json]\n")
    with pytest.raises(RulesetError, match=r"bad\.yaml: cannot read .*nowhere\.json"):
        load_ruleset_file(path)


def test_assay_scan_mode_moves_accepted_findings_to_the_suppressed_list(tmp_path: Path) -> None:
    ruleset = load_ruleset_file(_ruleset_dir(tmp_path / "rs") / "accepting.yaml")
    report = assess(SCAN, Acceptance(), TODAY, ruleset)
    kinds = {s.finding.id: s.kind for s in report.suppressed}
    assert kinds == {"CVE-2024-0001": "ignore", "CVE-2024-0002": "vex", "CVE-2024-0003": "unfixed"}
    assert [f.id for f in report.findings if f.category == "CVE"] == ["CVE-2024-0004"]
    assert [(e.id, e.matches) for e in report.expired_ignores] == [("CVE-2024-0004", 1)]
    # without the ruleset's keys nothing is accepted
    plain = assess(SCAN, Acceptance(), TODAY)
    assert plain.suppressed == []


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


async def test_pipeline_mode_suppresses_the_same_findings_with_their_reasons(
    store: Store, tmp_path: Path
) -> None:
    rulesets = load_rulesets(str(_ruleset_dir(tmp_path / "rs")))  # replaces the shipped default
    out = await make_policy_handler(store, rulesets)(SCAN)
    findings = {o.event.finding.id: o.event.finding for o in out if isinstance(o.event, FindingEvent)}
    assert findings["CVE-2024-0001"].suppression == "patched in our base image (until 2099-01-01)"
    assert findings["CVE-2024-0001"].policy_rule.startswith("ignore:")
    assert findings["CVE-2024-0002"].suppression == "VEX not_affected: vulnerable_code_not_in_execute_path"
    assert findings["CVE-2024-0003"].suppression.startswith("not-fixed: ")
    assert findings["CVE-2024-0004"].suppression == ""  # its entry expired


def test_assay_scan_applies_a_ruleset_s_ignore_file(fixtures: Path, vuln_db: Path, tmp_path: Path) -> None:
    target = f"oci:{fixtures}/oci/alpine"
    code, plain, err = assay_scan(target, db=vuln_db)
    assert code == 0, err
    first = sorted(f["id"] for f in plain["findings"] if f["category"] == "CVE")[0]
    (tmp_path / "ignore.txt").write_text(f"{first}  # accepted by the team\nCVE-2099-0001 exp:someday\n")
    (tmp_path / "rs.yaml").write_text("name: team\nignore_files: [ignore.txt]\n")
    code, report, err = assay_scan(target, db=vuln_db, args=("--ruleset", str(tmp_path / "rs.yaml")))
    assert code == 0, err
    assert first not in {f["id"] for f in report["findings"]}
    assert {(s["finding"]["id"], s["kind"]) for s in report["suppressed"]} >= {(first, "ignore")}
    assert "ignore.txt:2: expires 'someday' is not a YYYY-MM-DD date" in err  # warned, the rest applies
