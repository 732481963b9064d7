"""Every ASSAY_* variable the chart and the compose file set is a setting of services/common/config.py,
and every command they run is a real ``assay`` subcommand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.cli.main import _parser
from services.common.config import load_settings
from tests.deploy.manifests import CUSTOM, ROOT, containers, env_names, objects, pod_specs, settings_env_vars

COMPOSE = ROOT / "deploy" / "compose.yaml"


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _assay_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose["services"].items() if str(s.get("image", "")).startswith("assay:")}


@pytest.mark.parametrize("values", [None, CUSTOM], ids=["default", "custom"])
def test_chart_env_vars_are_settings(values: dict[str, Any] | None) -> None:
    objs = objects(values)
    names = {n for n in env_names(objs) if n.startswith("ASSAY_")}
    assert names, "the chart sets no ASSAY_ variable"
    assert names - settings_env_vars() == set(), "not read by services/common/config.py"
    literal = {
        e["name"]: e["value"]
        for _, spec in pod_specs(objs)
        for c in containers(spec)
        for e in c.get("env", [])
        if "value" in e and e["name"] in settings_env_vars()
    }
    load_settings(environ=literal)  # the values parse as their settings


@pytest.mark.parametrize("values", [None, CUSTOM], ids=["default", "custom"])
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


def test_compose_engine_reads_the_advisory_db_the_init_service_wrote() -> None:
    services = _compose()["services"]
    assert services["engine"]["depends_on"]["advisory-db"] == {"condition": "service_completed_successfully"}
    assert services["advisory-db"]["volumes"] == services["engine"]["volumes"]
    assert services["engine"]["environment"]["ASSAY_DATA_DIR"] == "/var/lib/assay"


def test_settings_env_vars_helper_sees_config(tmp_path: Path) -> None:
    known = settings_env_vars()
    assert {"ASSAY_PG_DSN", "ASSAY_KAFKA_BOOTSTRAP", "ASSAY_REGISTRIES", "ASSAY_CLUSTERS"} <= known
    assert "ASSAY_NOT_A_SETTING" not in known
