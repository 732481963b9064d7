"""Ignore files (YAML and .assayignore), expiry, --ignore-unfixed, and how suppression partitions matches."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from schemas.records import VulnMatch
from services.policy.suppress import Suppressor, package_matches, parse_ignore_file, partition

TESTDATA = Path(__file__).parent / "testdata" / "suppress"
TODAY = dt.date(2026, 11, 23)

LOG4SHELL = VulnMatch(
    vuln_id="CVE-2021-44228",
    package_name="log4j-core",
    package_version="2.14.1",
    package_purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
    advisory_ids=["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"],
    fixed_version="2.15.0",
    fix_state="fixed",
)
MINIMIST = VulnMatch(
    vuln_id="CVE-2021-44906",
    package_name="minimist",
    package_version="1.2.0",
    package_purl="pkg:npm/minimist@1.2.0",
    advisory_ids=["CVE-2021-44906", "GHSA-xvch-5gv4-984h"],
    fixed_version="1.2.6",
    fix_state="fixed",
)
UNFIXED = VulnMatch(
    vuln_id="CVE-2099-0004",
    package_name="left-pad",
    package_version="1.1.0",
    package_purl="pkg:npm/left-pad@1.1.0",
    advisory_ids=["CVE-2099-0004"],
    fix_state="not-fixed",
)
WONTFIX = VulnMatch(
    vuln_id="CVE-2099-0012",
    package_name="python3-requests",
    package_version="2.28.1+dfsg-1",
    package_purl="pkg:deb/debian/python3-requests@2.28.1%2Bdfsg-1?arch=all",
    advisory_ids=["CVE-2099-0012", "DEBIAN-CVE-2099-0012"],
    fix_state="wont-fix",
)


def _load(name: str) -> Suppressor:
    parsed = parse_ignore_file(name, (TESTDATA / name).read_bytes())
    return Suppressor(parsed.rules, today=TODAY)


def test_yaml_ignore_file() -> None:
    parsed = parse_ignore_file("assay-ignore.yaml", (TESTDATA / "assay-ignore.yaml").read_bytes())
    assert [(r.id, r.package, r.expires) for r in parsed.rules] == [
        ("GHSA-jfh8-c2jp-5v3q", "pkg:maven/org.apache.logging.log4j/log4j-core", "2027-01-31"),
        ("CVE-2021-44906", "minimist", "2026-11-23"),
        ("CVE-2099-0012", "", ""),
    ]
    assert parsed.problems == [
        "assay-ignore.yaml#4: entry has no id",
        "assay-ignore.yaml#5: expires 'next week' is not a YYYY-MM-DD date",
    ]
    s = Suppressor(parsed.rules, today=TODAY)
    decision = s.by_rule(LOG4SHELL)
    assert decision is not None
    assert decision.reason == "JNDI lookups disabled (LOG4J_FORMAT_MSG_NO_LOOKUPS=true) (until 2027-01-31)"
    assert (decision.kind, decision.source) == ("ignore", "assay-ignore.yaml#1")
    # expires today: no longer suppressing, reported as expired with the findings it would cover
    assert s.by_rule(MINIMIST) is None
    assert [(r.id, n) for r, n in s.expired_hits([LOG4SHELL, MINIMIST])] == [("CVE-2021-44906", 1)]
    assert s.by_rule(WONTFIX) is not None  # no package: any package


def test_text_ignore_file() -> None:
    parsed = parse_ignore_file(".assayignore", (TESTDATA / ".assayignore").read_bytes())
    assert [(r.id, r.package, r.expires, r.reason) for r in parsed.rules] == [
        (
            "CVE-2021-44228",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "",
            "patched jar, see JIRA-12",
        ),
        ("GHSA-xvch-5gv4-984h", "", "2025-01-01", "dev dependency only"),
        ("CVE-2099-0004", "pkg:npm/other", "", ""),
    ]
    assert parsed.problems == [".assayignore:7: expires '2026-13-01' is not a YYYY-MM-DD date"]
    s = _load(".assayignore")
    assert s.by_rule(LOG4SHELL) is not None
    assert s.by_rule(MINIMIST) is None  # expired on 2025-01-01
    assert s.by_rule(UNFIXED) is None  # another package


def test_malformed_yaml_is_a_problem_not_a_crash() -> None:
    parsed = parse_ignore_file("x.yml", b"ignore: [unclosed")
    assert parsed.rules == []
    assert parsed.problems[0].startswith("x.yml: not valid YAML")
    assert parse_ignore_file("x.yml", b"ignore: 3").problems == [
        "x.yml: expected a list of entries under `ignore`"
    ]


def test_package_patterns() -> None:
    assert package_matches("", LOG4SHELL)
    assert package_matches("LOG4J-CORE", LOG4SHELL)
    assert package_matches("pkg:maven/org.apache.logging.log4j/log4j-core", LOG4SHELL)
    assert package_matches("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar", LOG4SHELL)
    assert not package_matches("pkg:maven/org.apache.logging.log4j/log4j-core@2.17.0", LOG4SHELL)
    assert not package_matches("pkg:maven/org.other/log4j-core", LOG4SHELL)
    assert not package_matches("pkg:not a purl", LOG4SHELL)


def test_ignore_unfixed_and_partition() -> None:
    s = Suppressor([], today=TODAY, ignore_unfixed=True)
    kept, dropped = partition([LOG4SHELL, UNFIXED, WONTFIX], [s.by_rule, s.by_fix_state])
    assert kept == [LOG4SHELL]
    assert [(m.vuln_id, d.kind) for m, d in dropped] == [
        ("CVE-2099-0004", "unfixed"),
        ("CVE-2099-0012", "unfixed"),
    ]
    assert dropped[1][1].reason.startswith("wont-fix: ")
    off = Suppressor([], today=TODAY)
    assert partition([UNFIXED], [off.by_fix_state]) == ([UNFIXED], [])


def test_trivy_yaml_ignore_file_one_rule_per_purl() -> None:
    parsed = parse_ignore_file(".trivyignore.yaml", (TESTDATA / ".trivyignore.yaml").read_bytes())
    assert parsed.problems == []
    assert [(r.id, r.package, r.expires, r.reason, r.source) for r in parsed.rules] == [
        (
            "CVE-2021-44228",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "2027-06-30",
            "JNDI lookups disabled",
            ".trivyignore.yaml#1",
        ),
        (
            "CVE-2021-44228",
            "pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1",
            "2027-06-30",
            "JNDI lookups disabled",
            ".trivyignore.yaml#1",
        ),
        ("CVE-2021-44906", "", "", "", ".trivyignore.yaml#2"),
    ]
