"""Evaluation: detections become findings with stable ids, rules and thresholds, default ids unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

from schemas.records import Detection, VulnMatch
from services.policy.catalog import load_ruleset_file
from services.policy.ruleset import DEFAULT_RULESET, evaluate, finding_id

DIGEST = "sha256:" + "cd" * 32
PROD = load_ruleset_file(Path(__file__).parent / "testdata" / "rulesets" / "prod.yaml")

SECRET = Detection(
    category="InsecureContent",
    rule_id="aws-access-key-id",
    severity="HIGH",
    title="AWS access key id",
    path="/srv/app/.env",
    layer_digest="sha256:" + "11" * 32,
    evidence="AKIA…(sha256:0f1e2d3c)",  # redacted by the analyzer: a prefix plus a hash
    source="assay-secrets",
)
DOC_SECRET = Detection(
    category="InsecureContent",
    rule_id="aws-access-key-id",
    severity="HIGH",
    title="AWS access key id",
    path="/usr/share/doc/awscli/README",
    evidence="AKIA…(sha256:99aa88bb)",
)
MALWARE = Detection(
    category="MaliciousFile",
    rule_id="EICAR-Test-File",
    severity="CRITICAL",
    title="EICAR",
    path="/tmp/eicar.com",
)


def _match(n: int, severity: str, **kw: object) -> VulnMatch:
    return VulnMatch(
        vuln_id=f"CVE-2024-{n:04d}",
        package_name="openssl",
        package_version="3.0.11-1",
        package_purl="pkg:deb/debian/openssl@3.0.11-1",
        severity=severity,
        **kw,  # type: ignore[arg-type]
    )


def test_default_ruleset_ids_keep_the_formula_from_before_rulesets() -> None:
    m = _match(1, "HIGH")
    old = hashlib.sha256("\x1f".join((DIGEST, "CVE", m.vuln_id, m.package_purl)).encode()).hexdigest()[:32]
    outcome = evaluate(DEFAULT_RULESET, digest=DIGEST, matches=[m])
    assert outcome.findings[0].finding_id == old
    # another ruleset gets ids of its own for the same match (an image can be under both)
    prod = evaluate(PROD, digest=DIGEST, matches=[m])
    assert prod.findings[0].finding_id == finding_id(DIGEST, "CVE", m.vuln_id, m.package_purl, "prod")
    assert prod.findings[0].finding_id != old


def test_detections_become_findings_with_stable_ids() -> None:
    outcome = evaluate(DEFAULT_RULESET, digest=DIGEST, detections=[SECRET, MALWARE])
    by_cat = {f.category: f for f in outcome.findings}
    secret = by_cat["InsecureContent"]
    assert (secret.id, secret.severity, secret.path, secret.layer_digest) == (
        "aws-access-key-id",
        "HIGH",
        "/srv/app/.env",
        SECRET.layer_digest,
    )
    assert secret.evidence == SECRET.evidence  # only ever the redacted form
    evidence_hash = hashlib.sha256(SECRET.evidence.encode()).hexdigest()[:16]
    material = "\x1f".join((DIGEST, "InsecureContent", "aws-access-key-id", "/srv/app/.env", evidence_hash))
    assert secret.finding_id == hashlib.sha256(material.encode()).hexdigest()[:32]
    # the same detection in a later scan of the same digest keeps its id; other evidence is another finding
    again = evaluate(DEFAULT_RULESET, digest=DIGEST, detections=[MALWARE, SECRET])
    assert {f.finding_id for f in again.findings} == {f.finding_id for f in outcome.findings}
    other = Detection(**{**{f: getattr(SECRET, f) for f in SECRET.__struct_fields__}, "evidence": "AKIA…(x)"})
    assert (
        evaluate(DEFAULT_RULESET, digest=DIGEST, detections=[other]).findings[0].finding_id
        != secret.finding_id
    )


def test_a_malicious_file_alerts_under_default_but_other_detections_do_not() -> None:
    quiet = evaluate(DEFAULT_RULESET, digest=DIGEST, detections=[SECRET])
    assert quiet.alert_reason == ""
    assert [f.category for f in quiet.findings] == ["InsecureContent"]
    loud = evaluate(DEFAULT_RULESET, digest=DIGEST, detections=[SECRET, MALWARE])
    assert loud.alert_reason == "MaliciousFile 1 >= 1"
    assert loud.findings[-1].category == "ImageScan"
    assert loud.counts["CRITICAL"] == 0  # severity counts cover CVEs only under default


def test_rules_shape_detection_findings_and_suppressed_ones_never_count() -> None:
    outcome = evaluate(PROD, digest=DIGEST, detections=[DOC_SECRET])
    (doc,) = outcome.findings
    assert doc.suppression == "example keys shipped in documentation"
    assert doc.policy_rule == "accept-doc-examples"
    assert outcome.alert_reason == ""  # the suppressed secret does not reach InsecureContent: 1
    assert outcome.active == []
    outcome = evaluate(PROD, digest=DIGEST, detections=[DOC_SECRET, SECRET])
    assert (
        outcome.alert_reason == "HIGH 1 >= 1; InsecureContent 1 >= 1"
    )  # prod counts secrets by severity too
    assert outcome.findings[-1].severity == "CRITICAL"  # prod's image_scan_severity


def test_kev_rule_and_carried_findings_count_toward_thresholds() -> None:
    kev = _match(2, "MEDIUM", known_exploited=True, fix_state="fixed", fixed_version="3.0.13-1")
    outcome = evaluate(PROD, digest=DIGEST, matches=[kev])
    assert outcome.findings[0].severity == "CRITICAL"
    assert outcome.findings[0].policy_rule == "kev-is-critical"
    carried = evaluate(DEFAULT_RULESET, digest=DIGEST, detections=[MALWARE]).findings[0]
    rematched = evaluate(DEFAULT_RULESET, digest=DIGEST, matches=[_match(3, "LOW")], carried=[carried])
    assert rematched.alert_reason == "MaliciousFile 1 >= 1"
    assert [f.category for f in rematched.findings] == ["CVE", "ImageScan"]  # carried ones are not re-emitted
