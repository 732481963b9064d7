"""The secrets analyzer over real tar layers: deleted files, binaries, size caps, allowlists, config."""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgspec
import pytest

from schemas.records import Detection
from services.common.errors import ConfigError
from services.engine.analyze import analyze
from services.engine.content.redact import redact
from services.engine.content.secrets.analyzer import SecretsAnalyzer, SecretScanner
from services.engine.content.secrets.prefilter import KeywordPrefilter
from services.engine.content.secrets.ruleset import DEFAULT_RULES, PathSet, load_ruleset
from services.engine.requests import glob_matches
from services.engine.walk import FileHit
from tests.engine.memimage import Entry, Layer, MemoryImage

# fake, format-valid values
GHP = "ghp_" + "Zq3xK8mP2vL9wR4tY7uB1nC6dF0gH5jS2aE8"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
ENV_PASSWORD = "Vb7-Kp2Qz9-Lm4Xw"


def _analyzer(**kw: object) -> SecretsAnalyzer:
    return SecretsAnalyzer(load_ruleset(), **kw)  # type: ignore[arg-type]


async def test_a_secret_in_a_file_deleted_by_a_later_layer_is_reported_as_deleted() -> None:
    image = MemoryImage(
        [
            Layer([Entry("srv/app/deploy.sh", f"export GITHUB_TOKEN={GHP}\n".encode())], created_by="COPY"),
            Layer([Entry("srv/app/.wh.deploy.sh", b"")], created_by="RUN rm /srv/app/deploy.sh"),
        ]
    )
    result = await analyze(image, [], [_analyzer()])
    [d] = result.detections
    assert (d.category, d.rule_id, d.path, d.deleted) == (
        "InsecureContent",
        "github-pat",
        "/srv/app/deploy.sh",
        True,
    )
    assert d.layer_digest == image.info.layers[0].digest
    assert d.evidence == f"line 1: {redact(GHP)}"
    assert GHP not in repr(result)


async def test_binaries_and_files_over_the_cap_are_skipped() -> None:
    text = f"key={STRIPE}\n".encode()
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("usr/bin/tool", b"\x7fELF\x00\x00" + text),
                    Entry("srv/big.txt", text + b"#" * 4096),
                    Entry("srv/small.txt", text),
                ]
            )
        ]
    )
    result = await analyze(image, [], [_analyzer(max_bytes=1024)])
    assert [d.path for d in result.detections] == ["/srv/small.txt"]
    assert result.unknowns == []  # skipped by design, not "could not read"


async def test_the_image_config_env_labels_and_history_are_scanned() -> None:
    image = MemoryImage([Layer([Entry("etc/hostname", b"fixture\n")])])
    image.config = {
        "config": {
            "Env": ["PATH=/usr/bin", f"DB_PASSWORD={ENV_PASSWORD}", "API_URL=https://example.invalid"],
            "Labels": {"ci.token": STRIPE, "org.opencontainers.image.title": "x"},
        },
        "history": [
            {"created_by": "/bin/sh -c #(nop) ENV PATH=/usr/bin"},
            {"created_by": f"RUN curl -H 'x: {GHP}'"},
        ],
    }
    result = await analyze(image, [], [_analyzer()])
    got = {(d.rule_id, d.path, d.evidence.split(":")[0]) for d in result.detections}
    assert got == {
        ("generic-password", "", "env DB_PASSWORD"),
        ("stripe-secret-key", "", "label ci.token"),
        ("github-pat", "", "history 2"),
    }
    for d in result.detections:
        for raw in (ENV_PASSWORD, STRIPE, GHP):
            assert raw not in d.evidence


def test_path_allowlist_defaults_and_extra_globs() -> None:
    text = f"token {GHP}\n".encode()
    scanner = SecretScanner(load_ruleset(extra_allow_paths=["srv/fixtures/**"]))
    assert scanner.scan("srv/app/x.txt", text)
    assert not scanner.scan("srv/fixtures/a/x.txt", text)
    assert not scanner.scan("usr/lib/python3.11/site-packages/pkg/tests/data.txt", text)
    assert not scanner.scan("usr/lib/node_modules/jwt/test/key.txt", text)
    bare = SecretScanner(load_ruleset(use_default_allow_paths=False))
    assert bare.scan("usr/lib/python3.11/site-packages/pkg/tests/data.txt", text)


def test_one_match_per_secret_per_file_and_the_specific_rule_wins() -> None:
    scanner = SecretScanner(load_ruleset())
    text = f"a={GHP}\nb={GHP}\n".encode()
    assert [(m.rule.rule.id, m.line) for m in scanner.scan("srv/x.txt", text)] == [("github-pat", 1)]
    # a GitHub token assigned to a password in a .env file: the GitHub rule, not the generic one
    found = scanner.scan("srv/.env", f"GIT_PASSWORD={GHP}\n".encode())
    assert [m.rule.rule.id for m in found] == ["github-pat"]


def test_the_substring_fallback_agrees_with_hyperscan() -> None:
    ruleset = load_ruleset()
    groups = [c.rule.keywords for c in ruleset.rules]
    patterns = [c.rule.prefilter for c in ruleset.rules]
    fast, slow = KeywordPrefilter(groups, patterns), KeywordPrefilter(groups, patterns, use_hyperscan=False)
    assert (fast.engine, slow.engine) == ("hyperscan", "substring")
    twilio = ruleset.by_id["twilio-api-key"].index
    for sample, has_twilio in [
        (b"", False),
        (b"nothing here", False),
        (f"X {GHP} Password: {STRIPE}".encode(), False),
        (b"BEGIN RSA PRIVATE KEY _authToken", False),
        (b"ASK the DISK task", False),  # the literal SK alone no longer selects the Twilio rule
        (b"key SK" + b"0123456789abcdef" * 2 + b" AKIAQX7Z3KRN5TBW2MHL", True),
    ]:
        assert fast.groups_in(sample) == slow.groups_in(sample)
        assert (twilio in fast.groups_in(sample)) is has_twilio


def test_a_broken_rules_file_is_a_config_error_naming_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text(
        DEFAULT_RULES.read_text()
        .replace('id = "jwt"', 'id = "github-pat"')
        .replace("regex = '''(?<![A-Za-z0-9_])(npm_", "regex = '''((npm_")
    )
    with pytest.raises(ConfigError) as err:
        load_ruleset(bad)
    assert "github-pat: duplicate id" in str(err.value)
    assert "npm-access-token: bad regex" in str(err.value)
    (tmp_path / "junk.toml").write_text("rule = 3\n")
    with pytest.raises(ConfigError, match=r"junk\.toml"):
        load_ruleset(tmp_path / "junk.toml")


def test_redaction_shows_at_most_four_characters_and_a_hash() -> None:
    assert redact(GHP) == "ghp_…" + hashlib.sha256(GHP.encode()).hexdigest()[:8]
    assert redact("hunter2x").startswith("hu…")  # a quarter of a short value
    assert redact("abc").startswith("…")
    assert redact("\x1b[31mabcdefgh").startswith("?[3…")  # control characters never reach a terminal


def test_path_sets_agree_with_the_walk_glob_rules() -> None:
    patterns = [
        "**/.npmrc",
        "**/*.conf",
        "usr/share/doc/**",
        "usr/lib/python3*/test/**",
        "**/node_modules/**/test/**",
        "etc/kubernetes/*.conf",
        "**/.env.*",
    ]
    paths = [
        "root/.npmrc",
        ".npmrc",
        "a/.npmrcx",
        "a/b.conf",
        "b.conf",
        "usr/share/doc/x",
        "usr/share/docx",
        "usr/share/doc",
        "usr/lib/python3.11/test/a",
        "x/node_modules/a/test/b",
        "etc/kubernetes/a.conf",
        "srv/.env.prod",
        "srv/.env",
    ]
    path_set = PathSet(patterns)
    for path in paths:
        assert path_set.match(path) == any(glob_matches(p, path) for p in patterns), path


async def test_the_image_info_on_the_wire_shows_env_labels_and_history_secrets_redacted() -> None:
    image = MemoryImage([Layer([Entry("etc/hostname", b"x\n")], created_by=f"RUN login --token {GHP}")])
    env = ["PATH=/usr/bin", f"STRIPE_API_KEY={STRIPE}", f"DB_PASSWORD={ENV_PASSWORD}"]
    labels = {"ci.token": STRIPE, "title": "x"}
    image.info = msgspec.structs.replace(image.info, env=env, labels=labels)
    result = await analyze(image, [], [_analyzer()])
    shown = msgspec.json.encode(result.image).decode()
    for raw in (GHP, STRIPE, ENV_PASSWORD):
        assert raw not in shown
    assert result.image.env[0] == "PATH=/usr/bin"
    assert result.image.env[1] == f"STRIPE_API_KEY={redact(STRIPE)}"
    assert result.image.labels == {"ci.token": redact(STRIPE), "title": "x"}
    assert result.image.layers[0].created_by == f"RUN login --token {redact(GHP)}"


def test_line_numbers_across_rules_and_the_per_rule_cap() -> None:
    scanner = SecretScanner(load_ruleset())
    text = f"a\nb\nkey={STRIPE}\nc\ntoken={GHP}\n".encode()
    assert sorted((m.rule.rule.id, m.line) for m in scanner.scan("srv/x.txt", text)) == [
        ("github-pat", 5),
        ("stripe-secret-key", 3),
    ]
    many = "".join(
        f"t{i}=ghp_{hashlib.sha256(str(i).encode()).hexdigest()[:36]}\n" for i in range(150)
    ).encode()
    found = scanner.scan("srv/dump.txt", many)
    assert len(found) == 100
    assert [m.line for m in found[:3]] == [1, 2, 3]


def test_any_in_agrees_with_groups_in_on_both_engines() -> None:
    ruleset = load_ruleset()
    groups = [c.rule.keywords for c in ruleset.rules]
    patterns = [c.rule.prefilter for c in ruleset.rules]
    for prefilter in (
        KeywordPrefilter(groups, patterns),
        KeywordPrefilter(groups, patterns, use_hyperscan=False),
    ):
        for sample in (b"", b"nothing here", GHP.encode(), b"ASK the DISK task", f"p {STRIPE}".encode()):
            assert prefilter.any_in(sample) is bool(prefilter.groups_in(sample)), (prefilter.engine, sample)


class _Counting(SecretsAnalyzer):
    def __init__(self) -> None:
        super().__init__(load_ruleset())
        self.scanned: list[str] = []

    def scan_file(self, hit: FileHit) -> list[Detection]:
        self.scanned.append(hit.path)
        return super().scan_file(hit)


async def test_only_files_with_a_keyword_reach_scan_file() -> None:
    analyzer = _Counting()
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("srv/plain.txt", b"no credentials in here\n"),
                    Entry("srv/empty", b""),
                    Entry("srv/token.txt", f"t={GHP}\n".encode()),
                    Entry("srv/keyword-only.txt", b"see the ghp_ prefix docs\n"),
                    # ":" selects the .pgpass rule, which only runs on .pgpass files
                    Entry("srv/notes.txt", b"host: db.internal:5432\n"),
                    Entry("root/.pgpass", b"db.internal:5432:app:app:Qx7-Lm2Vb9-Kp4Zw\n"),
                ]
            )
        ]
    )
    result = await analyze(image, [], [analyzer])
    assert sorted(analyzer.scanned) == ["root/.pgpass", "srv/keyword-only.txt", "srv/token.txt"]
    assert sorted((d.rule_id, d.path) for d in result.detections if d.path) == [
        ("github-pat", "/srv/token.txt"),
        ("pgpass-password", "/root/.pgpass"),
    ]
    # the walk's test itself: no keyword, empty, binary, or a keyword only a scoped rule wants
    [request] = [r for r in analyzer.requests if r.accept is not None]
    assert request.accept is not None
    for path, data in (
        ("x", b"no credentials in here\n"),
        ("x", b""),
        ("x", b"\0binary ghp_"),
        ("srv/notes.txt", b"host: db.internal:5432\n"),
    ):
        assert not request.accept(path, data), path
    assert request.accept("root/.pgpass", b"db.internal:5432:app:app:Qx7-Lm2Vb9-Kp4Zw\n")
    assert request.accept("srv/token.txt", f"t={GHP}\n".encode())
