"""Trust-boundary settings: the scan budget (``ASSAY_BUDGET_<FIELD>``, checked at load) and
where registry credentials may go (``auth_hosts``)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from services.common.errors import ConfigError
from services.engine.budget import ScanBudget
from services.settings import Settings, load_settings


def test_every_budget_field_has_its_variable() -> None:
    env = {f"ASSAY_BUDGET_{name.upper()}": "7" for name in ScanBudget.__struct_fields__}
    budget = load_settings(env).budget
    assert all(getattr(budget, name) == 7 for name in ScanBudget.__struct_fields__)


def test_defaults_when_unset_and_file_values_under_the_environment(tmp_path: Path) -> None:
    assert load_settings({}).budget == ScanBudget()
    config = tmp_path / "settings.json"
    config.write_bytes(msgspec.json.encode({"budget": {"unknowns_max": 5, "parse_seconds_max": 2.5}}))
    budget = load_settings({"ASSAY_BUDGET_UNKNOWNS_MAX": "9"}, config_file=str(config)).budget
    assert (budget.unknowns_max, budget.parse_seconds_max) == (9, 2.5)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ASSAY_BUDGET_TEMP_DISK_BYTES_MAX": "0"},
            "ASSAY_BUDGET_TEMP_DISK_BYTES_MAX: must be a positive number",
        ),
        (
            {"ASSAY_BUDGET_IMAGE_SECONDS_MAX": "-1"},
            "ASSAY_BUDGET_IMAGE_SECONDS_MAX: must be a positive number",
        ),
        (
            {"ASSAY_BUDGET_UNKNOWNS_MAX": "many"},
            "ASSAY_BUDGET_UNKNOWNS_MAX: 'many' is invalid: Expected `int`",
        ),
    ],
)
def test_a_bad_budget_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_the_budget_survives_the_settings_file_of_child_processes() -> None:
    settings = load_settings({"ASSAY_BUDGET_MEMORY_BYTES_MAX": str(3 << 30)})
    again = msgspec.json.decode(msgspec.json.encode(settings), type=Settings)
    assert again.budget.memory_bytes_max == 3 << 30


def test_a_registry_names_the_hosts_its_credentials_may_go_to() -> None:
    value = "registry.gitlab.com;user=ci;password=s;auth_host=gitlab.com;auth_host=sso.example,x.io"
    [gitlab, plain] = load_settings({"ASSAY_REGISTRIES": value}).registries
    assert gitlab.auth_hosts == ["gitlab.com", "sso.example"]
    assert plain.auth_hosts == []
