"""One registry of services and one table of commands (issue 13): every service's entry module
declares what it needs and runs from its resources; every command registers and runs one way."""

from __future__ import annotations

import argparse
import importlib
import inspect
import subprocess
import sys

import pytest

from services.cli.main import COMMANDS, _parser
from services.cli.registry import SERVICES
from services.common.lifespan import Needs


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_entry_declares_needs_and_runs_from_resources(name: str) -> None:
    module = importlib.import_module(SERVICES[name].module)
    assert module.__name__ == f"services.{name}.main"  # the entry lives in the service's own package
    assert isinstance(module.NEEDS, Needs)
    assert inspect.iscoroutinefunction(module.run)
    assert list(inspect.signature(module.run).parameters) == ["resources", "stop"]


def test_assay_service_accepts_exactly_the_registered_services() -> None:
    for name in SERVICES:
        assert _parser().parse_args(["service", name]).name == name
    with pytest.raises(SystemExit):
        _parser().parse_args(["service", "nope"])


def test_every_command_is_registered_once_and_runs_through_its_table_entry() -> None:
    names = [n for c in COMMANDS for n in c.names]
    assert len(names) == len(set(names))
    parser = _parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(sub.choices) == set(names)  # nothing registered beside the table
    for command in COMMANDS:
        for name in command.names:
            assert sub.choices[name].get_default("run") is command.run, name
    assert parser.parse_args(["scan", "oci:x"]).run is COMMANDS[0].run


def test_the_cli_does_not_load_any_service_until_one_runs() -> None:
    """``assay --help`` and ``assay scan`` load no service entry module, no Kafka and no AWS client."""
    code = (
        "import sys, services.cli.main\n"
        "loaded = sorted(m for m in sys.modules if m.endswith('.main') and m != 'services.cli.main'"
        " or m in ('aiokafka', 'aiobotocore', 'services.common.bus.kafka', 'services.common.aws'))\n"
        "print(' '.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [], out.stdout
