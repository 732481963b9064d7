"""Ruleset files: parsing (good and bad, errors naming file and rule), the catalog and each match field."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.records import Finding
from services.policy.catalog import load_ruleset_file, load_rulesets
from services.policy.rules import Match, RulesetError, parse_ruleset
from services.policy.ruleset import DEFAULT_RULESET, Ruleset, apply_rules

RULESETS = Path(__file__).parent / "testdata" / "rulesets"


def _finding(**kw: object) -> Finding:
    base: dict[str, object] = {
        "finding_id": "x",
        "category": "CVE",
        "id": "CVE-2024-0001",
        "severity": "MEDIUM",
        "title": "t",
        "package_name": "openssl",
        "purl": "pkg:deb/debian/openssl@3.0.11-1?arch=amd64&distro=debian-12",
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def test_the_shipped_default_keeps_the_old_thresholds() -> None:
    assert DEFAULT_RULESET.name == "default"
    assert DEFAULT_RULESET.thresholds == {"CRITICAL": 1, "HIGH": 5, "TOTAL": 25, "MaliciousFile": 1}
    assert DEFAULT_RULESET.threshold_categories == ["CVE"]
    assert DEFAULT_RULESET.rules == []


def test_a_directory_of_rulesets_loads_beside_the_default() -> None:
    rulesets = load_rulesets(str(RULESETS))
    assert list(rulesets) == ["default", "lenient", "prod"]
    prod = rulesets["prod"]
    assert prod.source.endswith("prod.yaml")
    assert [r.name for r in prod.rules] == ["kev-is-critical", "accept-doc-examples", "unfixed-is-accepted"]
    assert rulesets["lenient"].rules[0].name == "rule 1"  # unnamed rules are numbered
    with pytest.raises(RulesetError, match=r"no ruleset named 'nope' \(known: default, lenient, prod\)"):
        rulesets.require("nope")


def test_two_files_with_one_name_are_an_error_naming_both(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: same\n")
    (tmp_path / "b.yaml").write_text("name: same\n")
    with pytest.raises(RulesetError, match=r"b\.yaml: ruleset 'same' is already defined in .*a\.yaml"):
        load_rulesets(str(tmp_path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [", r"bad\.yaml: not valid YAML"),
        ("- a\n- b\n", r"bad\.yaml: a ruleset is a mapping"),
        ("thresholds: {HIGH: 1}\n", r"bad\.yaml: Object missing required field `name`"),
        ("name: x\nthresholds: {SEVERE: 1}\n", r"bad\.yaml: threshold 'SEVERE' is not a severity"),
        ("name: x\nthresholds: {HIGH: 0}\n", r"bad\.yaml: threshold HIGH must be at least 1"),
        ("name: x\ncolour: red\n", r"bad\.yaml: Object contains unknown field `colour`"),
        (
            "name: x\nrules:\n  - name: quiet\n    match: {path: /tmp/*}\n    action: {suppress: true}\n",
            r"bad\.yaml: rule 1 \(quiet\): a suppression needs a reason",
        ),
        (
            "name: x\nrules:\n  - {action: {severity: LOW}}\n  - name: typo\n    match: {sevrity: HIGH}\n"
            "    action: {severity: LOW}\n",
            r"bad\.yaml: rule 2 \(typo\): Object contains unknown field `sevrity`"
            r" - at `\$\.rules\[1\]\.match`",
        ),
        (
            "name: x\nrules:\n  - name: r\n    match: {fix: maybe}\n    action: {severity: LOW}\n",
            r"bad\.yaml: rule 1 \(r\): match\.fix 'maybe' is not one of fixed, not-fixed, wont-fix",
        ),
        (
            "name: x\nrules:\n  - name: r\n    match: {category: Malware}\n    action: {severity: LOW}\n",
            r"rule 1 \(r\): match\.category 'Malware' is not one of",
        ),
        (
            "name: x\nrules:\n  - name: r\n    action: {}\n",
            r"rule 1 \(r\): action must set severity or suppress",
        ),
        (
            "name: x\nrules:\n  - name: r\n    action: {severity: HIGH, suppress: true, reason: y}\n",
            r"rule 1 \(r\): action sets both severity and suppress",
        ),
        ("name: x\nrules:\n  - name: r\n    action: {severity: SEVERE}\n", r"action\.severity 'SEVERE'"),
        (
            "name: x\nrules:\n  - match: {cvss_min: high}\n    action: {severity: LOW}\n",
            r"rule 1: Expected `float",
        ),
    ],
)
def test_bad_files_fail_with_the_file_and_rule(text: str, message: str) -> None:
    with pytest.raises(RulesetError, match=message):
        parse_ruleset("bad.yaml", text)


def test_an_unreadable_file_names_itself(tmp_path: Path) -> None:
    with pytest.raises(RulesetError, match=r"missing\.yaml: cannot read"):
        load_ruleset_file(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("match", "hit", "miss"),
    [
        (Match(category="CVE"), {}, {"category": "InsecureContent"}),
        (Match(category=["MaliciousFile", "CVE"]), {}, {"category": "Package"}),
        (Match(severity="HIGH"), {"severity": "CRITICAL"}, {"severity": "MEDIUM"}),
        (Match(severity="HIGH"), {"severity": "HIGH"}, {"severity": "UNKNOWN"}),
        (Match(cvss_min=7.0), {"cvss_score": 7.0}, {"cvss_score": 6.9}),
        (Match(fix="not-fixed"), {"fix_state": "not-fixed"}, {"fix_state": "fixed"}),
        (Match(fix=["wont-fix", "not-fixed"]), {"fix_state": "wont-fix"}, {"fix_state": ""}),
        (Match(kev=True), {"known_exploited": True}, {}),
        (Match(kev=False), {}, {"known_exploited": True}),
        (Match(package="openssl"), {}, {"package_name": "libssl3", "purl": "pkg:deb/debian/libssl3@3"}),
        (Match(package="pkg:deb/debian/open*"), {}, {"purl": "pkg:npm/openssl@1", "package_name": "x"}),
        (Match(path="/etc/*"), {"path": "/etc/ssl/key.pem"}, {"path": "/usr/etc/x"}),
        (Match(id="CVE-2024-*"), {}, {"id": "CVE-2023-1"}),
        (
            Match(category="CVE", severity="LOW", fix="not-fixed"),
            {"fix_state": "not-fixed"},
            {"fix_state": "fixed"},
        ),
        (Match(), {}, None),  # an empty match matches everything
    ],
)
def test_each_match_field(match: Match, hit: dict[str, object], miss: dict[str, object] | None) -> None:
    assert match.matches(_finding(**hit))
    if miss is not None:
        assert not match.matches(_finding(**miss))


def test_rules_apply_in_order_and_suppression_ends_evaluation() -> None:
    prod = load_ruleset_file(RULESETS / "prod.yaml")
    kev = apply_rules(prod, _finding(known_exploited=True, severity="LOW", fix_state="not-fixed"))
    # the KEV rule raises it; the unfixed suppression does not apply to known-exploited ones
    assert (kev.severity, kev.suppression, kev.policy_rule) == ("CRITICAL", "", "kev-is-critical")
    low = apply_rules(prod, _finding(severity="LOW", fix_state="wont-fix"))
    assert (low.severity, low.suppression, low.policy_rule) == ("LOW", "no fix exists", "unfixed-is-accepted")
    doc = apply_rules(
        prod, _finding(category="InsecureContent", path="/usr/share/doc/x/README", id="aws-key")
    )
    assert doc.suppression == "example keys shipped in documentation"
    untouched = _finding(severity="HIGH", fix_state="fixed")
    assert apply_rules(prod, untouched) == untouched
    assert apply_rules(Ruleset(), untouched) == untouched
