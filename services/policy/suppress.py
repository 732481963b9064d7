"""Suppression of accepted vulnerabilities: ignore files with expiry dates, and unfixed ones on request.

Two ignore-file formats are read:

* YAML (``*.yaml`` / ``*.yml``)::

    ignore:
      - id: CVE-2021-44228            # any id of the vulnerability (CVE, GHSA, PYSEC, DSA, ...)
        package: pkg:maven/org.apache.logging.log4j/log4j-core   # optional: purl or package name
        expires: 2026-12-31           # optional: from this day on the entry stops suppressing
        reason: not reachable in our deployment

  (a bare list of such entries is accepted too). Trivy's ``.trivyignore.yaml`` reads the same:
  ``vulnerabilities:`` entries with ``id``, ``purls`` (one rule per purl), ``expired_at`` and
  ``statement``;
* ``.assayignore`` text, one entry per line, ``#`` comments, a superset of ``.trivyignore``:
  ``ID [PACKAGE] [exp:YYYY-MM-DD] [# reason]``.

A bad entry is a problem naming the file and line, never an exception; the other entries
still apply. An expired entry suppresses nothing and is reported as expired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

import msgspec
import yaml
from packageurl import PackageURL

from schemas.records import VulnMatch

UNFIXED_REASON: Final = "no fixed version is available (--ignore-unfixed)"


class IgnoreRule(msgspec.Struct, frozen=True, kw_only=True):
    """One accepted vulnerability: its id, optionally one package, until an optional date."""

    id: str
    package: str = ""  # a purl (version and qualifiers optional) or a package name; "" = any
    expires: str = ""  # YYYY-MM-DD; "" = never
    reason: str = ""
    source: str = ""  # "FILE:LINE" or "FILE#N" where the rule was read


class IgnoreFile(msgspec.Struct, frozen=True, kw_only=True):
    """The rules read from one file and the problems met reading it."""

    rules: list[IgnoreRule] = []
    problems: list[str] = []


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """Why a match is suppressed: the reason and the rule or statement that said so."""

    reason: str
    source: str
    kind: str  # "ignore", "unfixed", "vex"


def _date_problem(value: str, where: str) -> str | None:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return f"{where}: expires {value!r} is not a YYYY-MM-DD date"
    return None


def _rule(entry: Any, where: str) -> IgnoreRule | str:
    if isinstance(entry, str):
        entry = {"id": entry}
    if not isinstance(entry, dict):
        return f"{where}: an entry must be a mapping with an id, not {type(entry).__name__}"
    ident = entry.get("id") or entry.get("vulnerability")
    if not isinstance(ident, str) or not ident.strip():
        return f"{where}: entry has no id"
    expires = entry.get("expires", entry.get("expired_at", ""))
    if isinstance(expires, dt.datetime):
        expires = expires.date()
    expires = expires.isoformat() if isinstance(expires, dt.date) else str(expires or "")
    if expires and (problem := _date_problem(expires, where)):
        return problem
    package = entry.get("package") or entry.get("purl") or ""
    if isinstance(package, dict):  # {"name": ..} or {"purl": ..}
        package = package.get("purl") or package.get("name") or ""
    return IgnoreRule(
        id=ident.strip(),
        package=str(package).strip(),
        expires=expires,
        reason=str(entry.get("reason") or entry.get("statement") or "").strip(),
        source=where,
    )


def parse_yaml(name: str, data: bytes) -> IgnoreFile:
    """The YAML ignore-file format (see the module docstring)."""
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        return IgnoreFile(problems=[f"{name}: not valid YAML: {exc}"])
    if doc is None:
        return IgnoreFile()
    entries = doc.get("ignore", doc.get("vulnerabilities")) if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        return IgnoreFile(problems=[f"{name}: expected a list of entries under `ignore`"])
    rules: list[IgnoreRule] = []
    problems: list[str] = []
    for i, entry in enumerate(entries, 1):
        for one in _per_purl(entry):
            got = _rule(one, f"{name}#{i}")
            (problems if isinstance(got, str) else rules).append(got)  # type: ignore[arg-type]
    return IgnoreFile(rules=rules, problems=problems)


def _per_purl(entry: Any) -> list[Any]:
    """Trivy's ``purls: [...]`` as one entry per purl (an entry without it as it is)."""
    purls = entry.get("purls") if isinstance(entry, dict) else None
    if not isinstance(purls, list) or not purls or entry.get("package") or entry.get("purl"):
        return [entry]
    return [{**entry, "purl": str(purl)} for purl in purls]


def parse_text(name: str, data: bytes) -> IgnoreFile:
    """The ``.assayignore`` line format: ``ID [PACKAGE] [exp:YYYY-MM-DD] [# reason]``."""
    rules: list[IgnoreRule] = []
    problems: list[str] = []
    for lineno, raw in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        text, _, comment = raw.partition("#")
        words = text.split()
        if not words:
            continue
        where = f"{name}:{lineno}"
        entry: dict[str, str] = {"id": words[0], "reason": comment.strip()}
        for word in words[1:]:
            if word.startswith("exp:"):
                entry["expires"] = word[4:]
            elif "package" not in entry:
                entry["package"] = word
            else:
                problems.append(f"{where}: unexpected {word!r}")
        got = _rule(entry, where)
        (problems if isinstance(got, str) else rules).append(got)  # type: ignore[arg-type]
    return IgnoreFile(rules=rules, problems=problems)


def parse_ignore_file(name: str, data: bytes) -> IgnoreFile:
    """YAML for ``*.yaml``/``*.yml`` names, the line format otherwise."""
    if name.lower().endswith((".yaml", ".yml")):
        return parse_yaml(name, data)
    return parse_text(name, data)


def _purl_parts(text: str) -> tuple[str, str, str, str] | None:
    try:
        p = PackageURL.from_string(text)
    except ValueError:
        return None
    return (p.type, p.namespace or "", p.name, p.version or "")


def package_matches(pattern: str, match: VulnMatch) -> bool:
    """Whether ``pattern`` (a purl, with or without version and qualifiers, or a name) names the package.

    Names of packages compare case-insensitively; a purl's version must equal the installed
    version when the purl has one; qualifiers are ignored.
    """
    if not pattern:
        return True
    if not pattern.startswith("pkg:"):
        return pattern.lower() == match.package_name.lower()
    want, have = _purl_parts(pattern), _purl_parts(match.package_purl)
    if want is None or have is None:
        return False
    if want[:3] != have[:3] and tuple(s.lower() for s in want[:3]) != tuple(s.lower() for s in have[:3]):
        return False
    return not want[3] or want[3] == have[3]


def _ids(match: VulnMatch) -> set[str]:
    return {match.vuln_id, *match.advisory_ids}


def is_expired(rule: IgnoreRule, today: dt.date) -> bool:
    """Whether the rule's ``expires`` day has come (an entry expiring today no longer suppresses)."""
    return bool(rule.expires) and dt.date.fromisoformat(rule.expires) <= today


class Suppressor:
    """Decides, match by match, whether a vulnerability is accepted; remembers the expired rules it met."""

    def __init__(self, rules: Sequence[IgnoreRule], *, today: dt.date, ignore_unfixed: bool = False) -> None:
        self.today = today
        self.ignore_unfixed = ignore_unfixed
        self.active = [r for r in rules if not is_expired(r, today)]
        self.expired = [r for r in rules if is_expired(r, today)]

    def by_rule(self, match: VulnMatch) -> Decision | None:
        """The unexpired ignore entry that accepts ``match``, as a decision, or None."""
        ids = _ids(match)
        for rule in self.active:
            if rule.id in ids and package_matches(rule.package, match):
                until = f" (until {rule.expires})" if rule.expires else ""
                reason = (rule.reason or "listed in the ignore file") + until
                return Decision(reason=reason, source=rule.source, kind="ignore")
        return None

    def by_fix_state(self, match: VulnMatch) -> Decision | None:
        """With ``ignore_unfixed``: a decision for a match no fixed version exists for."""
        if self.ignore_unfixed and not match.fixed_version and match.fix_state in ("not-fixed", "wont-fix"):
            return Decision(
                reason=f"{match.fix_state}: {UNFIXED_REASON}", source="--ignore-unfixed", kind="unfixed"
            )
        return None

    def expired_hits(self, matches: Iterable[VulnMatch]) -> list[tuple[IgnoreRule, int]]:
        """Each expired rule with the number of ``matches`` it would still have suppressed."""
        matches = list(matches)
        return [
            (rule, sum(1 for m in matches if rule.id in _ids(m) and package_matches(rule.package, m)))
            for rule in self.expired
        ]


Decider = Callable[[VulnMatch], "Decision | None"]


def partition(
    matches: Iterable[VulnMatch], deciders: Sequence[Decider]
) -> tuple[list[VulnMatch], list[tuple[VulnMatch, Decision]]]:
    """Split ``matches`` into those kept and those suppressed (by the first decider that says so)."""
    kept: list[VulnMatch] = []
    dropped: list[tuple[VulnMatch, Decision]] = []
    for match in matches:
        decision = next((d for d in (decide(match) for decide in deciders) if d is not None), None)
        if decision is None:
            kept.append(match)
        else:
            dropped.append((match, decision))
    return kept, dropped
