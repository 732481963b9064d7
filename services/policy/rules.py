"""Ruleset files: YAML in, validated msgspec Structs out, with errors naming the file and the rule.

A ruleset file::

    name: prod
    thresholds: {CRITICAL: 1, HIGH: 5, TOTAL: 25, MaliciousFile: 1}
    threshold_categories: [CVE, InsecureContent, MaliciousFile, MaliciousURL, MaliciousIP]
    image_scan_severity: HIGH
    rules:
      - name: kev-is-critical
        match: {category: CVE, kev: true}
        action: {severity: CRITICAL}
      - name: accept-doc-examples
        match: {category: InsecureContent, path: "/usr/share/doc/*"}
        action: {suppress: true, reason: "example keys shipped in documentation"}

Accepted vulnerabilities (``services/policy/suppress_accept.py``) may be named too, applied in
``assay scan --ruleset FILE`` and in the policy service alike; paths are relative to the
ruleset file and read when the ruleset is loaded::

    ignore_files: [prod.assayignore]   # .assayignore/.trivyignore lines (exp:YYYY-MM-DD) or YAML
    vex: [vex/app.openvex.json]        # OpenVEX documents: not_affected/fixed statements
    ignore_unfixed: false              # suppress vulnerabilities without a fixed version

A threshold key is a severity (that severity or worse is *not* implied: exactly that severity),
``TOTAL``, or a finding category (e.g. ``MaliciousFile: 1``). Severity and ``TOTAL`` counts
cover the findings of ``threshold_categories``; suppressed findings never count.

A rule's ``match`` holds any of: ``category`` (one or a list), ``severity`` (this or worse),
``cvss_min``, ``fix`` (``fixed``/``not-fixed``/``wont-fix``, one or a list), ``kev`` (bool),
``package`` (a glob over the package name or its purl), ``path`` and ``id`` (globs); every
given field must hold. An empty ``match`` matches everything. ``action`` sets ``severity`` or
``suppress``es with a required ``reason``. Rules apply in file order; a later severity wins,
and a suppression ends the evaluation of that finding.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

import msgspec
import yaml

from schemas.records import Finding
from schemas.vocabulary import CATEGORIES, DETECTION_CATEGORIES, FIX_STATES, SEVERITIES, severity_rank
from services.common.errors import AssayError

__all__ = [
    "CATEGORIES",
    "DETECTION_CATEGORIES",
    "FIX_STATES",
    "SEVERITIES",
    "Action",
    "Match",
    "Rule",
    "RulesetError",
    "RulesetSpec",
    "parse_ruleset",
]


class RulesetError(AssayError):
    """A ruleset file is invalid, or a ruleset name is unknown; the message names file and rule."""


class Match(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a rule applies to: every field given must hold (globs are fnmatch, case-sensitive)."""

    category: str | list[str] | None = None
    severity: str | None = None  # this or worse
    cvss_min: float | None = None
    fix: str | list[str] | None = None
    kev: bool | None = None
    package: str | None = None  # glob over the package name or its purl
    path: str | None = None
    id: str | None = None

    def matches(self, f: Finding) -> bool:
        """Whether ``f`` satisfies every condition given."""
        if self.category is not None and f.category not in _as_list(self.category):
            return False
        if self.severity is not None and severity_rank(f.severity) > severity_rank(self.severity):
            return False
        if self.cvss_min is not None and f.cvss_score < self.cvss_min:
            return False
        if self.fix is not None and f.fix_state not in _as_list(self.fix):
            return False
        if self.kev is not None and f.known_exploited != self.kev:
            return False
        if self.package is not None and not (
            (f.package_name and fnmatch.fnmatchcase(f.package_name, self.package))
            or (f.purl and fnmatch.fnmatchcase(f.purl, self.package))
        ):
            return False
        if self.path is not None and not fnmatch.fnmatchcase(f.path, self.path):
            return False
        return self.id is None or fnmatch.fnmatchcase(f.id, self.id)


class Action(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a matching rule does: set ``severity``, or ``suppress`` with a ``reason``."""

    severity: str | None = None
    suppress: bool = False
    reason: str = ""


class Rule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One rule: a name (for messages and ``Finding.policy_rule``), a match and an action."""

    name: str = ""
    match: Match = msgspec.field(default_factory=Match)
    action: Action


class RulesetSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A ruleset file as written (``services/policy/ruleset.py`` turns it into a ``Ruleset``)."""

    name: str
    thresholds: dict[str, int] = {}
    threshold_categories: list[str] = msgspec.field(default_factory=lambda: ["CVE"])
    image_scan_severity: str = "HIGH"
    rules: list[Rule] = []
    description: str = ""
    ignore_files: list[str] = []
    vex: list[str] = []
    ignore_unfixed: bool = False


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _check_rule(source: str, index: int, rule: Rule) -> Rule:
    label = f"{source}: rule {index + 1}" + (f" ({rule.name})" if rule.name else "")
    m, a = rule.match, rule.action
    if m.severity is not None and m.severity not in SEVERITIES:
        raise RulesetError(f"{label}: match.severity {m.severity!r} is not one of {', '.join(SEVERITIES)}")
    for value in _as_list(m.category) if m.category is not None else []:
        if value not in CATEGORIES:
            raise RulesetError(f"{label}: match.category {value!r} is not one of {', '.join(CATEGORIES)}")
    for value in _as_list(m.fix) if m.fix is not None else []:
        if value not in FIX_STATES:
            raise RulesetError(f"{label}: match.fix {value!r} is not one of {', '.join(FIX_STATES)}")
    if a.suppress and a.severity is not None:
        raise RulesetError(f"{label}: action sets both severity and suppress; use two rules")
    if not a.suppress and a.severity is None:
        raise RulesetError(f"{label}: action must set severity or suppress")
    if a.suppress and not a.reason.strip():
        raise RulesetError(f"{label}: a suppression needs a reason (action.reason)")
    if a.severity is not None and a.severity not in SEVERITIES:
        raise RulesetError(f"{label}: action.severity {a.severity!r} is not one of {', '.join(SEVERITIES)}")
    return rule if rule.name else msgspec.structs.replace(rule, name=f"rule {index + 1}")


def _check(source: str, spec: RulesetSpec) -> RulesetSpec:
    if not spec.name.strip():
        raise RulesetError(f"{source}: name is empty")
    for key, limit in spec.thresholds.items():
        if key not in (*SEVERITIES, "TOTAL", *CATEGORIES):
            raise RulesetError(f"{source}: threshold {key!r} is not a severity, TOTAL or a finding category")
        if limit < 1:
            raise RulesetError(f"{source}: threshold {key} must be at least 1 (got {limit})")
    for category in spec.threshold_categories:
        if category not in CATEGORIES:
            raise RulesetError(f"{source}: threshold_categories: unknown category {category!r}")
    if spec.image_scan_severity not in SEVERITIES:
        raise RulesetError(f"{source}: image_scan_severity {spec.image_scan_severity!r} is not a severity")
    rules = [_check_rule(source, i, r) for i, r in enumerate(spec.rules)]
    return msgspec.structs.replace(spec, rules=rules)


def _rule_hint(source: str, raw: Any, err: msgspec.ValidationError) -> str:
    """Name the rule an error sits in: msgspec's path is ``$.rules[N]...``."""
    text = str(err)
    marker = "$.rules["
    if marker in text and isinstance(raw, Mapping):
        index = int(text.split(marker, 1)[1].split("]", 1)[0])
        rules = raw.get("rules")
        name = ""
        if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], Mapping):
            name = str(rules[index].get("name") or "")
        return f"{source}: rule {index + 1}" + (f" ({name})" if name else "") + f": {text}"
    return f"{source}: {text}"


def parse_ruleset(source: str, data: bytes | str) -> RulesetSpec:
    """Parse one ruleset file's bytes; ``RulesetError`` naming ``source`` (and the rule) if invalid."""
    try:
        raw = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise RulesetError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise RulesetError(f"{source}: a ruleset is a mapping with name, thresholds and rules")
    try:
        spec = msgspec.convert(raw, RulesetSpec, strict=False)
    except msgspec.ValidationError as exc:
        raise RulesetError(_rule_hint(source, raw, exc)) from exc
    return _check(source, spec)
