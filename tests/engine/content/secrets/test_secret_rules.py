"""Every secret rule in the shipped ruleset has a positive and a negative example, and both behave.

Examples live in testdata/examples.toml (fake, format-valid values). A rule added to
rules.toml without examples fails here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from services.engine.content.secrets.analyzer import SecretScanner
from services.engine.content.secrets.ruleset import DEFAULT_RULES, load_ruleset

EXAMPLES: dict[str, Any] = tomllib.loads((Path(__file__).parent / "testdata" / "examples.toml").read_text())
RULE_IDS = [r["id"] for r in tomllib.loads(DEFAULT_RULES.read_text())["rule"]]
DEFAULT_PATH = "srv/app/settings.txt"
SCANNER = SecretScanner(load_ruleset())
EVIDENCE = re.compile(r"^[^…]{0,4}…[0-9a-f]{8}$")


def _cases(rule_id: str, kind: str) -> list[tuple[str, str]]:
    entry = EXAMPLES.get(rule_id, {})
    default = entry.get("path", DEFAULT_PATH)
    out = []
    for item in entry.get(kind, []):
        if isinstance(item, dict):
            out.append((item["path"], item["text"]))
        else:
            out.append((default, item))
    return out


def test_the_ruleset_has_at_least_60_rules_with_unique_ids() -> None:
    assert len(RULE_IDS) >= 60
    assert len(set(RULE_IDS)) == len(RULE_IDS)
    assert set(EXAMPLES) == set(RULE_IDS), "examples.toml and rules.toml name different rules"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_has_positive_and_negative_examples(rule_id: str) -> None:
    assert _cases(rule_id, "positive"), f"{rule_id}: no positive example"
    assert _cases(rule_id, "negative"), f"{rule_id}: no negative example"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_positive_examples_are_found_and_redacted(rule_id: str) -> None:
    for path, text in _cases(rule_id, "positive"):
        found = [m for m in SCANNER.scan(path, text.encode()) if m.rule.rule.id == rule_id]
        assert found, f"{rule_id} missed its example in {path}: {text[:60]!r}"
        assert SCANNER.worth_scanning(path, text.encode())  # the walk's prefilter lets it through
        for m in found:
            assert EVIDENCE.match(m.evidence), m.evidence
            secret = text.encode()[m.start : m.end].strip().decode()
            assert secret not in m.evidence
            assert len(secret) >= 8


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_negative_examples_are_not_reported_by_that_rule(rule_id: str) -> None:
    for path, text in _cases(rule_id, "negative"):
        found = [m.rule.rule.id for m in SCANNER.scan(path, text.encode())]
        assert rule_id not in found, f"{rule_id} fired on its negative example in {path}: {text[:60]!r}"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_the_walk_prefilter_agrees_with_the_full_prefilter_on_every_example(rule_id: str) -> None:
    for path, text in _cases(rule_id, "positive") + _cases(rule_id, "negative"):
        for where in (path, DEFAULT_PATH, "etc/unrelated.conf", "root/.pgpass"):
            data = text.encode()
            assert SCANNER.worth_scanning(where, data) is bool(SCANNER._rules_to_run(where, data)), where


# issue 16: every provider it names has a rule of its own (the examples above exercise each one)
ISSUE_PROVIDERS = [
    "curl-auth-user",
    "curl-auth-header",
    "slack-legacy-token",
    "slack-webhook-url",
    "sonarqube-token",
    "snyk-api-token",
    "sidekiq-secret",
    "sidekiq-sensitive-url",
    "huggingface-org-token",
    "flyio-token",
    "sourcegraph-token",
    "sumologic-access-id",
    "sumologic-access-token",
    "1password-service-account-token",
    "1password-secret-key",
    "notion-token",
    "facebook-access-token",
    "facebook-secret",
    "messagebird-api-token",
    "cloudflare-origin-ca-key",
    "clickhouse-cloud-key",
    "openshift-user-token",
    "perplexity-api-key",
    "hashicorp-vault-token",
    "hashicorp-vault-legacy-token",
    "heroku-api-key",
    "heroku-api-key-v2",
    "hubspot-api-key",
    "hubspot-private-app-token",
    "azure-sas-token",
    "azure-devops-pat",
    "azure-container-registry-password",
    "azure-app-configuration-connection-string",
    "maven-settings-password",
    "maven-settings-master-key",
    "docker-config-json-auths",
]


def test_every_provider_the_issue_names_has_a_rule_and_about_200_rules_exist() -> None:
    assert sorted(set(ISSUE_PROVIDERS) - set(RULE_IDS)) == []
    assert len(RULE_IDS) >= 200
