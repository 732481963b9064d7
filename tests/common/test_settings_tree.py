"""Settings as sections (issue 13): names derived from field paths, validated at load, errors naming
the variable, renamed variables refused, and every section declared beside its owner."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pytest

from services.common import config
from services.common.errors import ConfigError
from services.settings import RENAMED, Settings, env_names, load_settings


def test_every_variable_is_its_field_path() -> None:
    names = env_names()
    for section in ("ENGINE_CONCURRENCY", "ENGINE_SITE", "PG_DSN", "KAFKA_BOOTSTRAP", "DATA_DIR", "DB_PATH"):
        assert f"ASSAY_{section}" in names
    assert {"ASSAY_REGISTRIES", "ASSAY_CLUSTERS", "ASSAY_PLATFORM", "ASSAY_MAX_IMAGE_SIZE_MB"} <= names
    assert {
        "ASSAY_DEDUPE_SCAN_TIMEOUT_S",
        "ASSAY_MALWARE_YARA_RULES_DIR",
        "ASSAY_LAYER_CACHE_ENABLED",
    } <= names
    # one variable per leaf field, none invented: walking the tree by hand gives the same set
    leaves: set[str] = set()

    def walk(cls: type[msgspec.Struct], prefix: str) -> None:
        for field in msgspec.structs.fields(cls):
            default = field.default if field.default is not msgspec.NODEFAULT else None
            if default is None and field.default_factory is not msgspec.NODEFAULT:
                default = field.default_factory()
            if isinstance(default, msgspec.Struct):
                walk(type(default), f"{prefix}_{field.name.upper()}")
            else:
                leaves.add(f"{prefix}_{field.name.upper()}")

    walk(Settings, "ASSAY")
    assert leaves == names
    assert not names & set(RENAMED)  # the old names are gone
    assert "ASSAY_MAX_FILE_BYTES" not in names  # never read: removed


def test_values_land_in_their_sections() -> None:
    settings = load_settings(
        {
            "ASSAY_ENGINE_CONCURRENCY": "4",
            "ASSAY_KAFKA_CONSUMER_GROUP_PREFIX": "team",
            "ASSAY_CONTENT_ANALYZERS": "secrets, licenses",
            "ASSAY_LAYER_CACHE_ENABLED": "false",
            "ASSAY_DEDUPE_MAX_SCAN_ATTEMPTS": "5",
            "ASSAY_MALWARE_CLAMD_ADDRESS": "tcp:clamd:3310",
            "ASSAY_NODE_LISTEN": "[::1]:5050",
        }
    )
    assert settings.engine.concurrency == 4
    assert settings.kafka.consumer_group_prefix == "team"
    assert settings.content.analyzers == ["secrets", "licenses"]
    assert settings.layer_cache.enabled is False
    assert settings.dedupe.max_scan_attempts == 5
    assert settings.malware.clamd_address == "tcp:clamd:3310"
    assert settings.node.listen == "[::1]:5050"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ASSAY_ENGINE_CONCURRENCY": "many"},
            r"ASSAY_ENGINE_CONCURRENCY: 'many' is invalid: Expected `int`",
        ),
        ({"ASSAY_ENGINE_CONCURRENCY": "0"}, r"ASSAY_ENGINE_CONCURRENCY: '0' is invalid: Expected `int` >= 1"),
        ({"ASSAY_DEDUPE_SWEEP_INTERVAL_S": "-1"}, r"ASSAY_DEDUPE_SWEEP_INTERVAL_S: '-1' is invalid"),
        ({"ASSAY_LAYER_CACHE_BACKEND": "redis"}, r"ASSAY_LAYER_CACHE_BACKEND: 'redis' is invalid"),
        ({"ASSAY_API_LISTEN": "8080"}, r"ASSAY_API_LISTEN: '8080' is invalid: expected HOST:PORT"),
        (
            {"ASSAY_WEBHOOKS_LISTEN": "nowhere"},
            r"ASSAY_WEBHOOKS_LISTEN: 'nowhere' is invalid: expected HOST:PORT",
        ),
        (
            {"ASSAY_CLUSTERS": '[{"kubeconfig": "x"}]'},
            r"ASSAY_CLUSTERS: Object missing required field `name`",
        ),
        (
            {"ASSAY_AWS_REGISTRY_HOST_OVERRIDES": "[1]"},
            r"ASSAY_AWS_REGISTRY_HOST_OVERRIDES: must be a JSON object",
        ),
        ({"ASSAY_SCAN_TIMEOUT_S": "60"}, r"ASSAY_SCAN_TIMEOUT_S is now ASSAY_DEDUPE_SCAN_TIMEOUT_S"),
        ({"ASSAY_LAYER_CACHE": "false"}, r"ASSAY_LAYER_CACHE is now ASSAY_LAYER_CACHE_ENABLED"),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_secrets_are_not_echoed_in_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"ASSAY_AUTH_RATE_BURST": "x", "ASSAY_KAFKA_SASL_PASSWORD": "hunter2"})
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_settings({"ASSAY_REGISTRIES": '[{"host": 1, "password": "hunter2"}]'})
    assert str(caught.value).startswith("ASSAY_REGISTRIES:")
    assert "hunter2" not in str(caught.value)


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    file = tmp_path / "settings.json"
    file.write_bytes(msgspec.json.encode({"engine": {"concurrency": 3, "site": "eu"}, "pg": {"dsn": "file"}}))
    settings = load_settings(
        {"ASSAY_ENGINE_CONCURRENCY": "5"}, config_file=str(file), overrides={"pg": {"dsn": "override"}}
    )
    assert (settings.engine.concurrency, settings.engine.site, settings.pg.dsn) == (5, "eu", "override")
    with pytest.raises(ConfigError, match=r"ASSAY_ENGINE_CONCURRENCY: Expected `int` >= 1"):
        load_settings({}, overrides={"engine": {"concurrency": 0}})  # overrides are checked too


def test_the_child_environment_carries_settings_in_the_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSAY_ENGINE_SITE", "from-parent-env")
    monkeypatch.setenv("HOME_LIKE_VARIABLE", "kept")
    settings = load_settings({"ASSAY_ENGINE_SITE": "decided"})
    env = config.child_environment(settings, tmp_path / "child.json")
    assert "ASSAY_ENGINE_SITE" not in env
    assert env["HOME_LIKE_VARIABLE"] == "kept"
    assert os.stat(env["ASSAY_CONFIG"]).st_mode & 0o777 == 0o600
    assert load_settings(env).engine.site == "decided"


def test_kafka_security_is_checked_where_the_bus_opens() -> None:
    kafka = load_settings(
        {"ASSAY_KAFKA_SASL_MECHANISM": "PLAIN"}
    ).kafka  # loads: a bus-less process needs none
    with pytest.raises(ConfigError, match="ASSAY_KAFKA_SASL_USERNAME and ASSAY_KAFKA_SASL_PASSWORD"):
        config.kafka_security(kafka)
