"""Keyword-adjacent rules find their token in every assignment syntax real files use.

gitleaks generates its rules' true positives by writing a token into some thirty syntaxes
(INI, JSON and escaped JSON, XML elements, YAML scalars and blocks, C#, Go, Java, Kotlin, PHP,
Python, CSV, Logstash, Makefile assignments: ``cmd/generate/config/utils/generate.go``).
This test does the same with synthetic tokens of each provider's shape (random characters
from a fixed seed, never real credentials) for the rules that need their keyword nearby.
"""

from __future__ import annotations

import random
import string

import pytest

from services.engine.content.secrets.analyzer import SecretScanner
from services.engine.content.secrets.ruleset import load_ruleset

SHAPES = [
    '{i}Token="{s}"',
    "{i}Token = {s}",
    '{\n    "{i}_token": "{s}"\n}',
    '\\{\n    \\"{i}_token\\": \\"{s}\\"\n\\}',
    "<{i}Token>{s}</{i}Token>",
    "<{i}Token>\n    {s}\n</{i}Token>",
    "{i}_token: '{s}'",
    "{i}_token: |\n  {s}",
    "{i}_token: >\n  {s}",
    'string {i}Token = "{s}";',
    'var {i}Token string = "{s}"',
    "{i}Token := `{s}`",
    '${i}Token .= "{s}"',
    "{i}Token = '{s}'",
    "{i}Token,{s},",
    '  "{i}Token" => "{s}"',
    '{i}_TOKEN ::= "{s}"',
    '{i}_TOKEN ?= "{s}"',
    '{i}_TOKEN += "{s}"',
]

_RNG = random.Random(20261208)
_LOW = string.ascii_lowercase + string.digits
_HEX = "0123456789abcdef"


def _r(n: int, alphabet: str = _LOW) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def _uuid() -> str:
    return f"{_r(8, _HEX)}-{_r(4, _HEX)}-{_r(4, _HEX)}-{_r(4, _HEX)}-{_r(12, _HEX)}"


TOKENS = {
    "adafruit": _r(32),
    "airtable": _r(17),
    "algolia": _r(32),
    "beamer": "b_" + _r(44),
    "bitbucket": _r(32),
    "codecov": _r(32),
    "confluent": _r(64),
    "contentful": _r(43),
    "datadog": _r(40),
    "discord": _r(64, _HEX),
    "droneci": _r(32),
    "etsy": _r(24),
    "fastly": _r(32),
    "finnhub": _r(20),
    "freshbooks": _r(64),
    "gitter": _r(40),
    "heroku": _uuid(),
    "intercom": _r(60),
    "jfrog": _r(73),
    "kucoin": _r(24, _HEX),
    "launchdarkly": _r(40),
    "mailgun": "key-" + _r(32, _HEX),
    "mapbox": "pk." + _r(60) + "." + _r(22),
    "mattermost": _r(26),
    "messagebird": _r(25),
    "netlify": _r(42),
    "new_relic": _r(64),
    "nytimes": _r(32),
    "plaid": _r(30),
    "privateai": _r(32),
    "rapidapi": _r(50),
    "sendbird": _r(40, _HEX),
    "sentry": _r(64, _HEX),
    "sonar_token": _r(40),
    "sumo": _r(64),
    "travis": _r(22),
    "twitch": _r(30),
    "zendesk": _r(40),
}


@pytest.fixture(scope="module")
def scanner() -> SecretScanner:
    return SecretScanner(load_ruleset())


@pytest.mark.parametrize("keyword", sorted(TOKENS))
def test_every_assignment_shape(scanner: SecretScanner, keyword: str) -> None:
    missed = []
    for shape in SHAPES:
        data = shape.replace("{i}", keyword).replace("{s}", TOKENS[keyword]).encode()
        found = scanner.scan("srv/app/config.txt", data)
        if not any(data[m.start : m.end] == TOKENS[keyword].encode() for m in found):  # the token itself
            missed.append(shape)
    assert missed == []
