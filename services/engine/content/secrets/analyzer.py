"""The secrets analyzer (category ``InsecureContent``): leaked credentials in files and in the image config.

Every regular file is offered (``**``), including copies a later layer deleted or replaced,
because a secret removed by ``RUN rm`` is still in the lower layer's blob. Binaries (a NUL
byte in the first 8 KiB) and files over the size cap are skipped; the keyword prefilter
decides which rules' regexes run at all, and runs in the walk itself (the request's
``accept``), so a file it rules out is never handed over. Evidence is only ever
``redact(secret)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import msgspec

from schemas.records import Detection, ImageInfo
from schemas.vocabulary import DetectionCategory
from services.engine.budget import BudgetExceeded, ScanBudget
from services.engine.content.interface import ContentAnalyzer
from services.engine.content.redact import redact, shannon_entropy
from services.engine.content.secrets.checksums import CHECKSUMS, UNVERIFIED_ENTROPY
from services.engine.content.secrets.prefilter import KeywordPrefilter
from services.engine.content.secrets.ruleset import CompiledRule, Ruleset
from services.engine.content.secrets.verify import SecretVerifier
from services.engine.requests import FileRequest
from services.engine.walk import FileHit

CATEGORY: Final[DetectionCategory] = "InsecureContent"
SOURCE = "assay-secrets"
BINARY_SNIFF = 8192
MAX_PER_FILE = 100  # per rule and file: a dump of thousands of tokens is one problem, not thousands
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_SECONDS_MAX = ScanBudget().parse_seconds_max
log = logging.getLogger(__name__)
# image-config text is scanned as if it were these files, so path-scoped generic rules apply
_ENV_PATH = "image-config/.env"
_HISTORY_PATH = "image-config/history.conf"


class Match:
    """One secret found: its rule, where it sits in the data, and its redacted form."""

    __slots__ = ("end", "evidence", "line", "rule", "start")

    def __init__(self, rule: CompiledRule, start: int, end: int, line: int, evidence: str) -> None:
        self.rule = rule
        self.start = start
        self.end = end
        self.line = line
        self.evidence = evidence


def _secret_span(m: Any) -> tuple[int, int]:
    """The span of the first group that matched, or of the whole match."""
    for i in range(1, (m.re.groups or 0) + 1):
        if m.start(i) >= 0:
            return int(m.start(i)), int(m.end(i))
    return int(m.start()), int(m.end())


_KEY_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
KEY_PREFIX_MAX = 40


def _key_and_match(data: bytes, m: Any) -> bytes:
    """The match with the rest of the key name it starts in (``publicToken`` for a match at
    ``Token``): what ``allow_context`` is checked against."""
    start = first = int(m.start())
    while start > 0 and first - start < KEY_PREFIX_MAX and data[start - 1] in _KEY_CHARS:
        start -= 1
    return data[start : m.end()]


class SecretScanner:
    """Runs a ruleset over bytes: pure, thread-safe, no I/O.

    Every rule is free of nested and overlapping quantifiers (``test_linear.py`` proves it), so a
    scan is linear in the file; ``seconds_max`` (the per-file parse budget) is the backstop: the
    rule searches run with a timeout and a file that exhausts it raises ``BudgetExceeded``.
    """

    def __init__(self, ruleset: Ruleset, *, seconds_max: float = DEFAULT_SECONDS_MAX) -> None:
        self.ruleset = ruleset
        self.seconds_max = seconds_max
        self.prefilter = KeywordPrefilter(
            [c.rule.keywords for c in ruleset.rules], [c.rule.prefilter for c in ruleset.rules]
        )
        # the rules that apply to any path, alone: most files are in no rule's scope, and the
        # scoped rules' keywords (":" for .pgpass, "@" for .git-credentials) are in most files
        unscoped = [c for c in ruleset.rules if not c.scoped]
        self._unscoped = KeywordPrefilter(
            [c.rule.keywords for c in unscoped], [c.rule.prefilter for c in unscoped]
        )

    def _rules_to_run(self, path: str, data: bytes) -> list[CompiledRule]:
        """The rules whose regexes must run on ``data``, in rule order: a keyword or shape hit, the
        path not on the allowlist, and for path-scoped rules a path in their scope."""
        candidates = self.prefilter.groups_in(data)
        if not candidates or self.ruleset.path_allowed(path):
            return []
        rules = self.ruleset.rules
        in_scope: bool | None = None
        out: list[CompiledRule] = []
        for index in sorted(candidates):
            rule = rules[index]
            if rule.excluded is not None and rule.excluded.match(path):
                continue
            if rule.scoped:
                if in_scope is None:
                    in_scope = self.ruleset.in_any_scope(path)
                if not in_scope or not rule.paths.match(path):
                    continue
            out.append(rule)
        return out

    def _rule_matches(
        self, rule: CompiledRule, path: str, data: bytes, deadline: float
    ) -> Iterator[tuple[int, int, bytes]]:
        """Span and secret of each match of ``rule`` that passes the value and key filters; the
        search runs with the time left until ``deadline`` (``BudgetExceeded`` past it)."""
        try:
            for m in rule.pattern.finditer(data, timeout=max(deadline - time.monotonic(), 0.001)):
                start, end = _secret_span(m)
                secret = data[start:end].strip()
                if not secret or not self._passes(rule, secret):
                    continue
                if rule.allow_context and any(a.search(_key_and_match(data, m)) for a in rule.allow_context):
                    continue
                yield start, end, secret
        except TimeoutError as exc:
            where = f"{path} (rule {rule.rule.id})"
            raise BudgetExceeded("parse_seconds_max", self.seconds_max, where) from exc

    def _passes(self, rule: CompiledRule, secret: bytes) -> bool:
        """The value filters: entropy floor (none when a provider checksum proves the token,
        a stricter one when it fails), known example values and placeholders."""
        floor = rule.rule.entropy
        if rule.rule.checksum:
            floor = 0.0 if CHECKSUMS[rule.rule.checksum](secret) else max(floor, UNVERIFIED_ENTROPY)
        if floor and shannon_entropy(secret) < floor:
            return False
        return not self.ruleset.is_allowed_value(rule, secret)

    def worth_scanning(self, path: str, data: bytes) -> bool:
        """False only when ``scan`` would find nothing without running any rule's regex (True may
        still run none: a rule's ``exclude_paths`` are checked in ``scan``, not here).

        Most files cost one Hyperscan pass over the unscoped rules' keywords (stopping at the
        first hit) and one regex over the path; the full prefilter runs only on a path that
        some scoped rule names.
        """
        if self._unscoped.any_in(data):
            return not self.ruleset.path_allowed(path)
        if not self.ruleset.in_any_scope(path):
            return False
        return bool(self._rules_to_run(path, data))

    def scan(self, path: str, data: bytes) -> list[Match]:
        """Secrets in ``data`` read from image path ``path`` (no leading slash), in rule order.

        Paths on the allowlist yield nothing (checked only once a keyword was found).
        One match per (rule, secret) per file; a later rule's secret overlapping an earlier
        rule's is dropped (the specific rule wins over the generic one).
        """
        kept: list[Match] = []
        seen: set[tuple[str, bytes]] = set()
        deadline = time.monotonic() + self.seconds_max
        for rule in self._rules_to_run(path, data):
            found_here = 0
            for start, end, secret in self._rule_matches(rule, path, data, deadline):
                if (rule.rule.id, secret) in seen or any(start < k.end and k.start < end for k in kept):
                    continue
                seen.add((rule.rule.id, secret))
                kept.append(Match(rule, start, end, 0, redact(secret)))
                found_here += 1
                if found_here >= MAX_PER_FILE:
                    break
        # line numbers in one forward pass (counting from 0 per match is quadratic on big files)
        pos, line = 0, 1
        for match in sorted(kept, key=lambda k: k.start):
            line += data.count(b"\n", pos, match.start)
            pos = match.start
            match.line = line
        return kept


def _detection(match: Match, where: str, verification: str = "") -> Detection:
    rule = match.rule.rule
    return Detection(
        category=CATEGORY,
        rule_id=rule.id,
        severity=rule.severity,
        title=rule.title,
        evidence=f"{where}: {match.evidence}",
        source=SOURCE,
        verification=verification,
    )


def _looks_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_SNIFF]


class SecretsAnalyzer(ContentAnalyzer):
    """Leaked credentials in every text file of every layer, and in env, labels and history."""

    name = "secrets"
    version = "1"

    def __init__(
        self,
        ruleset: Ruleset,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        seconds_max: float = DEFAULT_SECONDS_MAX,
        verifier: SecretVerifier | None = None,
    ) -> None:
        """``verifier``: ask providers whether found credentials work (``secret_verify``; off by default)."""
        self.scanner = SecretScanner(ruleset, seconds_max=seconds_max)
        self.verifier = verifier
        self.max_bytes = max_bytes
        self._requests = (
            FileRequest(
                name="content-secrets",
                patterns=("**",),
                max_bytes=max_bytes,
                shadowed=True,
                report_oversize=False,
                text_only=True,  # binaries never leave the walk; scan_file checks 8 KiB more
                accept=self._worth_scanning,  # most files: no keyword, no hit, no scan_file call
            ),
        )

    @property
    def requests(self) -> Sequence[FileRequest]:
        return self._requests

    def fingerprint(self) -> str:
        verify = ":verify" if self.verifier is not None else ""  # cached outcomes would go stale
        return f"{self.scanner.ruleset.fingerprint}:{self.max_bytes}{verify}"

    def _detections(self, data: bytes, found: list[Match], where: Callable[[Match], str]) -> list[Detection]:
        out = []
        for m in found:
            verification = ""
            if self.verifier is not None and self.verifier.supports(m.rule.rule.id):
                verification = self.verifier.verify(m.rule.rule.id, data[m.start : m.end].strip())
            out.append(_detection(m, where(m), verification))
        return out

    def _worth_scanning(self, path: str, data: bytes) -> bool:
        """False exactly when ``scan_file`` would find nothing without running a rule: empty,
        binary, no keyword of any rule, an allowlisted path, or only path-scoped rules whose
        scope the path is not in (``.pgpass`` keywords are everywhere, ``.pgpass`` files are not)."""
        return bool(data) and not _looks_binary(data) and self.scanner.worth_scanning(path, data)

    def scan_file(self, hit: FileHit) -> list[Detection]:
        data = hit.data
        if not data or _looks_binary(data):
            return []
        return self._detections(data, self.scanner.scan(hit.path, data), lambda m: f"line {m.line}")

    def scan_text(self, where: str, path: str, text: str) -> list[Detection]:
        """Secrets in one piece of image-config text, labelled ``where`` (``env FOO``, ``history 3``).

        Text that exhausts the time budget yields nothing and a warning naming the budget (the
        image config has no file to become an unknown; ``redact_text`` hides all of it)."""
        data = text.encode("utf-8", "replace")
        try:
            found = self.scanner.scan(path, data)
        except BudgetExceeded as exc:
            log.warning("secrets: image config %s not scanned: %s", where, exc)
            return []
        return self._detections(data, found, lambda m: where)

    def redact_text(self, path: str, text: str) -> str:
        """``text`` with every occurrence of every secret found in it replaced by its redacted form
        (all of ``text`` when it could not be scanned within the time budget)."""
        data = text.encode("utf-8", "replace")
        try:
            found = self.scanner.scan(path, data)
        except BudgetExceeded:
            return redact(data)
        if not found:
            return text
        for m in found:
            secret = data[m.start : m.end].strip()
            data = data.replace(secret, m.evidence.encode())
        return data.decode("utf-8", "replace")

    def _redact_label(self, key: str, value: str) -> str:
        shown = self.redact_text(_ENV_PATH, f"{key}={value}")  # scanned as scan_image scans it
        return shown[len(key) + 1 :] if shown.startswith(f"{key}=") else self.redact_text(_ENV_PATH, value)

    def redact_image(self, image: ImageInfo) -> ImageInfo:
        """Env entries, label values and history lines with their secrets redacted."""
        env = [self.redact_text(_ENV_PATH, e) for e in image.env]
        labels = {k: self._redact_label(k, v) for k, v in image.labels.items()}
        layers = [
            msgspec.structs.replace(layer, created_by=self.redact_text(_HISTORY_PATH, layer.created_by))
            for layer in image.layers
        ]
        if env == image.env and labels == image.labels and layers == image.layers:
            return image
        return msgspec.structs.replace(image, env=env, labels=labels, layers=layers)

    def scan_image(self, image: ImageInfo, config: dict[str, Any]) -> list[Detection]:
        """Env (CIS Docker Benchmark 4.10: no secrets in Dockerfiles), labels and history lines."""
        return list(_config_detections(self, config))


def _config_detections(analyzer: SecretsAnalyzer, config: dict[str, Any]) -> Iterator[Detection]:
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        inner = {}
    for entry in inner.get("Env") or []:
        if isinstance(entry, str):
            name = entry.split("=", 1)[0]
            yield from analyzer.scan_text(f"env {name}", _ENV_PATH, entry)
    labels = inner.get("Labels") or {}
    if isinstance(labels, dict):
        for key, value in sorted(labels.items()):
            if isinstance(key, str) and isinstance(value, str):
                yield from analyzer.scan_text(f"label {key}", _ENV_PATH, f"{key}={value}")
    for n, item in enumerate(config.get("history") or [], 1):
        if isinstance(item, dict) and isinstance(item.get("created_by"), str):
            yield from analyzer.scan_text(f"history {n}", _HISTORY_PATH, item["created_by"])


__all__ = ["CATEGORY", "DEFAULT_MAX_BYTES", "SecretScanner", "SecretsAnalyzer"]
