"""The secret ruleset: rules read from ``rules.toml`` (or another TOML file) and compiled once.

A ruleset is data: each rule names its keywords (for the prefilter), a regex whose first
matching group is the secret, an optional entropy floor, optional path globs and known
example values to ignore. ``Ruleset.fingerprint`` hashes the file and the settings that
change results, and keys the per-layer result cache.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path

import msgspec
import regex

from schemas.vocabulary import Severity
from services.common.errors import ConfigError
from services.engine.content.secrets.checksums import CHECKSUMS
from services.engine.requests import globs_regex

DEFAULT_RULES = Path(__file__).with_name("rules.toml")
SEVERITIES = frozenset({"CRITICAL", "HIGH", "MEDIUM", "LOW"})


class Rule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One credential shape, as written in the rules file."""

    id: str
    title: str
    severity: Severity
    keywords: list[str] = []
    regex: str
    prefilter: str = ""  # a Hyperscan regex selecting the rule instead of keywords (a superset of ``regex``)
    entropy: float = 0.0
    paths: list[str] = []
    exclude_paths: list[str] = []  # globs this rule never runs on (third-party library trees)
    allow: list[str] = []
    placeholders: bool = False
    checksum: str = ""  # a provider-defined checksum the secret must pass (checksums.CHECKSUMS)
    allow_context: list[str] = []  # regexes over the match and the key name it starts in: a hit drops it


class RulesFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole rules file."""

    version: str
    rule: list[Rule]
    allow_paths: list[str] = []
    allow: list[str] = []
    placeholders: list[str] = []


class PathSet:
    """Globs (``FileRequest`` syntax) answered fast for the common shapes.

    ``**/NAME`` is a basename lookup, ``**/*.EXT`` a suffix test, ``DIR/**`` a prefix test;
    only other globs go to a regex. Called once per scanned text file, so it matters.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        names: set[str] = set()
        suffixes: list[str] = []
        prefixes: list[str] = []
        rest: list[str] = []
        for p in patterns:
            tail = p[3:] if p.startswith("**/") else ""
            if tail and not any(c in tail for c in "*?[/"):
                names.add(tail)
            elif tail.startswith("*.") and not any(c in tail[1:] for c in "*?[/"):
                suffixes.append(tail[1:])
            elif p.endswith("/**") and not any(c in p[:-3] for c in "*?["):
                prefixes.append(p[:-2])
            else:
                rest.append(p)
        self._names = frozenset(names)
        self._suffixes = tuple(suffixes)
        self._prefixes = tuple(prefixes)
        self._rest = globs_regex(rest) if rest else None

    def match(self, path: str) -> bool:
        """Whether any glob matches ``path`` (no leading slash)."""
        if path.rsplit("/", 1)[-1] in self._names or path.endswith(self._suffixes):
            return True
        if path.startswith(self._prefixes):
            return True
        return self._rest is not None and self._rest.match(path) is not None


class CompiledRule:
    """A rule ready to run: its regex and allowlists compiled."""

    def __init__(self, rule: Rule, index: int) -> None:
        self.rule = rule
        self.index = index
        # the ``regex`` module, not ``re``: its searches take a timeout (the per-file time budget)
        self.pattern = regex.compile(rule.regex.encode())
        self.allow = [re.compile(a.encode()) for a in rule.allow]
        self.allow_context = [re.compile(a.encode()) for a in rule.allow_context]
        self.scoped = bool(rule.paths)
        self.paths = PathSet(rule.paths)
        self.excluded = PathSet(rule.exclude_paths) if rule.exclude_paths else None


class Ruleset:
    """Compiled rules plus the path and value allowlists that apply to all of them."""

    def __init__(
        self,
        rules_file: RulesFile,
        *,
        source: bytes,
        extra_allow_paths: Sequence[str] = (),
        use_default_allow_paths: bool = True,
    ) -> None:
        self.version = rules_file.version
        self.rules = [CompiledRule(r, i) for i, r in enumerate(rules_file.rule)]
        self.by_id = {c.rule.id: c for c in self.rules}
        self.allow = [re.compile(a.encode()) for a in rules_file.allow]
        self.placeholders = [re.compile(p.encode()) for p in rules_file.placeholders]
        allow_paths = [*(rules_file.allow_paths if use_default_allow_paths else ()), *extra_allow_paths]
        self.allow_paths = tuple(allow_paths)
        self._allow_paths = PathSet(self.allow_paths)
        self._any_scope = PathSet([p for c in self.rules for p in c.rule.paths])
        material = source + b"\0" + "\n".join(self.allow_paths).encode()
        self.fingerprint = hashlib.sha256(material).hexdigest()[:16]

    def path_allowed(self, path: str) -> bool:
        """Whether ``path`` (no leading slash) is on the path allowlist: never scanned."""
        return self._allow_paths.match(path)

    def in_any_scope(self, path: str) -> bool:
        """Whether some path-scoped rule names ``path`` (one regex: most paths are in none)."""
        return self._any_scope.match(path)

    def is_allowed_value(self, rule: CompiledRule, secret: bytes) -> bool:
        """Known example values (per rule and global) and, for rules that ask, placeholders."""
        if any(a.search(secret) for a in rule.allow) or any(a.search(secret) for a in self.allow):
            return True
        return rule.rule.placeholders and any(p.fullmatch(secret) for p in self.placeholders)


def _problems(rules_file: RulesFile) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for r in rules_file.rule:
        if r.id in seen:
            out.append(f"rule {r.id}: duplicate id")
        seen.add(r.id)
        if r.severity not in SEVERITIES:
            out.append(f"rule {r.id}: severity {r.severity!r} is not one of {sorted(SEVERITIES)}")
        if not r.keywords and not r.prefilter:
            out.append(f"rule {r.id}: neither keywords nor prefilter (nothing would select it)")
        if any(k != k.lower() for k in r.keywords):
            out.append(f"rule {r.id}: keywords must be lower case")
        if r.checksum and r.checksum not in CHECKSUMS:
            out.append(f"rule {r.id}: unknown checksum {r.checksum!r} (known: {sorted(CHECKSUMS)})")
        try:
            regex.compile(r.regex.encode())
        except regex.error as exc:
            out.append(f"rule {r.id}: bad regex {r.regex!r}: {exc}")
        for text in (*r.allow, *r.allow_context, *([r.prefilter] if r.prefilter else [])):
            try:
                re.compile(text.encode())
            except re.error as exc:
                out.append(f"rule {r.id}: bad regex {text!r}: {exc}")
    for text in (*rules_file.allow, *rules_file.placeholders):
        try:
            re.compile(text.encode())
        except re.error as exc:
            out.append(f"bad allow/placeholder regex {text!r}: {exc}")
    return out


def load_ruleset(
    path: Path | None = None,
    *,
    extra_allow_paths: Sequence[str] = (),
    use_default_allow_paths: bool = True,
) -> Ruleset:
    """Read and compile a rules file (default: the shipped ``rules.toml``).

    A malformed file is a configuration error naming the file and every problem in it.
    """
    path = path or DEFAULT_RULES
    try:
        source = path.read_bytes()
        rules_file = msgspec.convert(tomllib.loads(source.decode()), RulesFile)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"secret rules {path}: {exc}") from exc
    problems = _problems(rules_file)
    if problems:
        raise ConfigError(f"secret rules {path}: " + "; ".join(problems))
    return Ruleset(
        rules_file,
        source=source,
        extra_allow_paths=extra_allow_paths,
        use_default_allow_paths=use_default_allow_paths,
    )


__all__ = ["DEFAULT_RULES", "CompiledRule", "Rule", "RulesFile", "Ruleset", "load_ruleset"]
