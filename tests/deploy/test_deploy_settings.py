"""Every ASSAY_* variable the chart and the compose file set is a setting (services/settings.py),
and every command they run is a real ``assay`` subcommand."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.cli.main import _parser
from services.settings import load_settings
from tests.deploy.manifests import (
    AGENT,
    CUSTOM,
    ROOT,
    containers,
    env_names,
    objects,
    pod_specs,
    settings_env_vars,
)

COMPOSE = ROOT / "deploy" / "compose.yaml"


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _assay_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose["services"].items() if str(s.get("image", "")).startswith("assay:")}


@pytest.mark.parametrize("values", [None, CUSTOM, AGENT], ids=["default", "custom", "agent"])
def test_chart_env_vars_are_settings(values: dict[str, Any] | None) -> None:
    objs = objects(values)
    names = {n for n in env_names(objs) if n.startswith("ASSAY_")}
    assert names, "the chart sets no ASSAY_ variable"
    assert names - settings_env_vars() == set(), "not a setting (services/settings.py)"
    literal = {
        # Kubernetes expands $(VAR) from the container's other variables: a pod IP here
        e["name"]: re.sub(r"\$\([A-Za-z_][A-Za-z0-9_]*\)", "10.0.0.1", e["value"])
        for _, spec in pod_specs(objs)
        for c in containers(spec)
        for e in c.get("env", [])
        if "value" in e and e["name"] in settings_env_vars()
    }
    load_settings(environ=literal)  # the values parse as their settings


@pytest.mark.parametrize("values", [None, CUSTOM, AGENT], ids=["default", "custom", "agent"])
def test_chart_commands_are_assay_subcommands(values: dict[str, Any] | None) -> None:
    for _, spec in pod_specs(objects(values)):
        for c in containers(spec):
            _parser().parse_args(c["args"])  # argparse exits on an unknown command


def test_compose_runs_kafka_kraft_postgres_and_every_service() -> None:
    compose = _compose()
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert compose["services"]["postgres"]["image"].startswith("postgres:")
    services = _assay_services(compose)
    commands = {tuple(s["command"]) for s in services.values()}
    assert {("service", n) for n in ("inventory", "dedupe", "engine", "policy", "api")} <= commands
    for name, svc in services.items():
        _parser().parse_args(svc["command"])
        assert svc["read_only"] is True, name
        assert svc["user"] == "10001:10001", name
        env = {k: v for k, v in svc["environment"].items() if k.startswith("ASSAY_")}
        assert set(env) - settings_env_vars() == set(), name
        # compose interpolation of an unset variable gives ""
        load_settings(environ={k: "" if str(v).startswith("${") else str(v) for k, v in env.items()})


def test_compose_engines_and_policy_take_the_updaters_builds_from_a_shared_volume() -> None:
    """Issue 14: the updater runs by default; its builds reach engines and policy through the
    object store's directory on one named volume (also the claim check of every bus user)."""
    services = _compose()["services"]
    assert services["updater"]["command"] == ["service", "updater"]
    for name in ("updater", "inventory", "dedupe", "engine", "policy"):
        assert services[name]["volumes"] == ["assay-objects:/var/lib/assay-objects"], name
        assert services[name]["environment"]["ASSAY_OBJECT_STORE_DIR"] == "/var/lib/assay-objects", name
    assert "advisory-db" not in services


def test_settings_env_vars_helper_sees_config(tmp_path: Path) -> None:
    known = settings_env_vars()
    assert {"ASSAY_PG_DSN", "ASSAY_KAFKA_BOOTSTRAP", "ASSAY_REGISTRIES", "ASSAY_CLUSTERS"} <= known
    assert "ASSAY_NOT_A_SETTING" not in known
