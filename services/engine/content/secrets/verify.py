"""Optional live verification: ask the provider whether a found credential works (off by default).

Like TruffleHog's verifiers, each probe makes one harmless, read-only authenticated request
(``GET /user`` on GitHub, ``auth.test`` on Slack ...) and reads the answer the provider's API
documents: accepted means ``verified``, an authentication refusal means ``invalid``, anything
else (a timeout, a 5xx, an unexpected body) means ``unknown``. The secret goes only to its own
provider's API, over HTTPS, in the header that API expects; it is never logged, and only the
outcome reaches the ``Detection``. Outcomes are cached per secret hash for the process.

Turned on by ``secret_verify`` (``ASSAY_SECRET_VERIFY``, ``assay scan --verify-secrets``). Tests
point the probes at a local fake server through ``base_urls``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["verified", "invalid", "unknown"]
CACHE_MAX = 10_000
log = logging.getLogger(__name__)


def _status_only(status: int, body: bytes) -> Outcome:
    """REST APIs that answer 200 to a working credential and 401 to a refused one."""
    if status == 200:
        return "verified"
    return "invalid" if status == 401 else "unknown"


def _slack(status: int, body: bytes) -> Outcome:
    """Slack answers 200 either way; ``ok`` and ``error`` in the JSON body say which."""
    if status != 200:
        return "unknown"
    try:
        answer = json.loads(body)
    except ValueError:
        return "unknown"
    if not isinstance(answer, dict):
        return "unknown"
    if answer.get("ok") is True:
        return "verified"
    refused = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
    return "invalid" if answer.get("error") in refused else "unknown"


def _stripe(status: int, body: bytes) -> Outcome:
    """403 is a restricted key without this permission: it authenticated, so it works."""
    return "verified" if status == 403 else _status_only(status, body)


@dataclass(frozen=True)
class Probe:
    """One provider's check: which rules it serves, the request, and how to read the answer."""

    provider: str
    rule_ids: frozenset[str]
    base_url: str
    method: str
    path: str
    header: str
    scheme: str  # prefix of the header value before the secret ("Bearer ", "token ", "")
    read: Callable[[int, bytes], Outcome]


PROBES = (
    Probe(
        "github",
        frozenset(
            {
                "github-pat",
                "github-oauth-token",
                "github-user-to-server-token",
                "github-server-to-server-token",
                "github-fine-grained-pat",
            }
        ),
        "https://api.github.com",
        "GET",
        "/user",
        "Authorization",
        "token ",
        _status_only,
    ),
    Probe(
        "gitlab",
        frozenset({"gitlab-pat"}),
        "https://gitlab.com",
        "GET",
        "/api/v4/user",
        "PRIVATE-TOKEN",
        "",
        _status_only,
    ),
    Probe(
        "slack",
        frozenset({"slack-bot-token", "slack-user-token", "slack-legacy-token", "slack-config-access-token"}),
        "https://slack.com",
        "POST",
        "/api/auth.test",
        "Authorization",
        "Bearer ",
        _slack,
    ),
    Probe(
        "stripe",
        frozenset({"stripe-secret-key", "stripe-restricted-key", "stripe-test-or-prod-key"}),
        "https://api.stripe.com",
        "GET",
        "/v1/balance",
        "Authorization",
        "Bearer ",
        _stripe,
    ),
    Probe(
        "npm",
        frozenset({"npm-access-token"}),
        "https://registry.npmjs.org",
        "GET",
        "/-/whoami",
        "Authorization",
        "Bearer ",
        _status_only,
    ),
    Probe(
        "openai",
        frozenset({"openai-api-key", "openai-project-key"}),
        "https://api.openai.com",
        "GET",
        "/v1/models",
        "Authorization",
        "Bearer ",
        _status_only,
    ),
    Probe(
        "huggingface",
        frozenset({"huggingface-token", "huggingface-org-token"}),
        "https://huggingface.co",
        "GET",
        "/api/whoami-v2",
        "Authorization",
        "Bearer ",
        _status_only,
    ),
)


class SecretVerifier:
    """Checks found secrets against their providers; thread-safe, one instance per process."""

    def __init__(self, *, base_urls: Mapping[str, str] | None = None, timeout: float = 5.0) -> None:
        """``base_urls`` replaces a provider's API root (``{"github": "http://127.0.0.1:8080"}``)."""
        overrides = dict(base_urls or {})
        self._by_rule: dict[str, tuple[Probe, str]] = {}
        for probe in PROBES:
            root = overrides.get(probe.provider, probe.base_url).rstrip("/")
            for rule_id in probe.rule_ids:
                self._by_rule[rule_id] = (probe, root)
        self.timeout = timeout
        self._cache: dict[str, Outcome] = {}
        self._lock = threading.Lock()

    def supports(self, rule_id: str) -> bool:
        """Whether a probe exists for this rule's credentials."""
        return rule_id in self._by_rule

    def verify(self, rule_id: str, secret: bytes) -> Outcome:
        """The provider's verdict on ``secret`` (``unknown`` when there is no probe or no answer)."""
        entry = self._by_rule.get(rule_id)
        if entry is None:
            return "unknown"
        key = hashlib.sha256(rule_id.encode() + b"\0" + secret).hexdigest()
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        probe, root = entry
        outcome = self._ask(probe, root, secret)
        with self._lock:
            if len(self._cache) >= CACHE_MAX:
                self._cache.clear()
            self._cache[key] = outcome
        return outcome

    def _ask(self, probe: Probe, root: str, secret: bytes) -> Outcome:
        value = probe.scheme + secret.decode("ascii", "replace")
        request = urllib.request.Request(
            root + probe.path,
            method=probe.method,
            headers={
                probe.header: value,
                "User-Agent": "assay-secrets-verifier",
                "Accept": "application/json",
            },
            data=b"" if probe.method == "POST" else None,
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return probe.read(response.status, response.read(65536))
        except urllib.error.HTTPError as exc:
            return probe.read(exc.code, exc.read(65536) if exc.fp is not None else b"")
        except (OSError, ValueError) as exc:  # URLError, timeouts, resets: no verdict
            log.info("secrets: %s verification got no answer: %s", probe.provider, type(exc).__name__)
            return "unknown"


__all__ = ["PROBES", "Outcome", "Probe", "SecretVerifier"]
