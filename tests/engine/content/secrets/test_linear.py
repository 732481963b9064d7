"""Secret rules run in linear time: proven by shape for the shipped rules, bounded by a budget for any.

Issue 18: a private-key-shaped block of spaces (``-----BEGIN RSA PRIVATE KEY-----`` and 1 MiB of
blanks) hung the scan, in a file and in an image env value, because the private-key rules'
nested whitespace quantifiers backtracked. Every shipped rule now passes ``regex_shape``'s check
(no unbounded, nested or overlapping repeats); a rules file that does not (``secret_rules`` may
name one) is still cut off by the per-file time budget, and the file becomes an unknown naming it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec
import pytest

from services.engine.analyze import analyze
from services.engine.content.redact import redact
from services.engine.content.secrets.analyzer import SecretsAnalyzer
from services.engine.content.secrets.ruleset import DEFAULT_RULES, load_ruleset
from tests.engine.content.secrets.regex_shape import problems
from tests.engine.memimage import Entry, Layer, MemoryImage

RULES = tomllib.loads(DEFAULT_RULES.read_text())["rule"]
MiB = 1024 * 1024
HOSTILE_KEYS = [
    b"-----BEGIN RSA PRIVATE KEY-----" + b" " * MiB,
    b"-----BEGIN RSA PRIVATE KEY-----\n" + b" \n" * (MiB // 2) + b"-----END RSA PRIVATE KEY-----\n",
    b"-----BEGIN OPENSSH PRIVATE KEY-----" + b"\\n " * (MiB // 3),
    b"-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: x\n" + b"A: b\n" * (MiB // 5),
]


@pytest.mark.parametrize("rule", RULES, ids=[r["id"] for r in RULES])
def test_every_shipped_rule_is_free_of_backtracking_shapes(rule: dict[str, str]) -> None:
    assert problems(rule["regex"]) == [], rule["id"]


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+b",
        r"\s*(?:x|\s)*\s*y",
        r"k[a-z]{0,500}[a-z0-9]{0,500}=",
        r"(?:[0-9]{1,9}-){1,50}",
        r"[a-z]{4,}",
    ],
)
def test_the_shape_check_rejects_backtracking_patterns(pattern: str) -> None:
    assert problems(pattern), pattern


@pytest.mark.parametrize("data", HOSTILE_KEYS, ids=["spaces", "blank-lines", "escaped-newlines", "headers"])
async def test_a_private_key_shaped_block_of_blanks_in_a_file_finishes_with_nothing_found(
    data: bytes,
) -> None:
    image = MemoryImage([Layer([Entry("srv/app/id_rsa", data)])])
    result = await analyze(image, [], [SecretsAnalyzer(load_ruleset())])
    assert result.detections == []
    assert result.unknowns == []


async def test_a_private_key_shaped_env_value_finishes_with_nothing_found() -> None:
    value = "-----BEGIN RSA PRIVATE KEY-----" + " " * MiB
    image = MemoryImage([Layer([Entry("etc/hostname", b"x\n")])])
    image.config = {"config": {"Env": [f"TLS_KEY={value}"]}}
    image.info = msgspec.structs.replace(image.info, env=[f"TLS_KEY={value}"])
    result = await analyze(image, [], [SecretsAnalyzer(load_ruleset())])
    assert result.detections == []
    assert result.image.env == [f"TLS_KEY={value}"]  # nothing to hide: no key material


def _catastrophic_rules(tmp_path: Path) -> Path:
    """A user-supplied rules file with a rule the shape check would reject: it backtracks."""
    path = tmp_path / "rules.toml"
    path.write_text(
        'version = "t"\n[[rule]]\nid = "slow"\ntitle = "slow"\nseverity = "LOW"\n'
        "keywords = [\"aaaa\"]\nregex = '''(a|aa){1,1000}$'''\n"
    )
    return path


async def test_a_file_that_exhausts_the_time_budget_becomes_an_unknown_naming_it(tmp_path: Path) -> None:
    analyzer = SecretsAnalyzer(load_ruleset(_catastrophic_rules(tmp_path)), seconds_max=0.05)
    image = MemoryImage(
        [Layer([Entry("srv/slow.txt", b"a" * 64 + b"!\n"), Entry("srv/fine.txt", b"nothing\n")])]
    )
    result = await analyze(image, [], [analyzer])
    [unknown] = result.unknowns
    assert unknown.path == "/srv/slow.txt"
    assert "parse_seconds_max" in unknown.reason
    assert "ASSAY_BUDGET_PARSE_SECONDS_MAX" in unknown.reason
    assert "rule slow" in unknown.reason


async def test_env_text_that_exhausts_the_budget_is_hidden_whole(tmp_path: Path) -> None:
    analyzer = SecretsAnalyzer(load_ruleset(_catastrophic_rules(tmp_path)), seconds_max=0.05)
    value = "a" * 64 + "!"
    image = MemoryImage([Layer([Entry("etc/hostname", b"x\n")])])
    image.config = {"config": {"Env": [f"X={value}"]}}
    image.info = msgspec.structs.replace(image.info, env=[f"X={value}"])
    result = await analyze(image, [], [analyzer])
    assert result.detections == []
    assert result.image.env == [redact(f"X={value}".encode())]
