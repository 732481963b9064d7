"""``HostPort`` settings: checked when settings load, with the variable named; split at use."""

from __future__ import annotations

import pytest

from services.common.errors import ConfigError
from services.common.hostport import split_host_port
from services.settings import load_settings


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("0.0.0.0:5050", ("0.0.0.0", 5050)),
        ("[::1]:5050", ("::1", 5050)),
        ("[::]:0", ("::", 0)),
        ("node-1.cluster.local:65535", ("node-1.cluster.local", 65535)),
    ],
)
def test_host_ports_split(value: str, parts: tuple[str, int]) -> None:
    assert split_host_port(value) == parts


@pytest.mark.parametrize(
    "value", ["127.0.0.1", ":8080", "host:65536", "host:-1", "a b:1", "[::1]", "http://h:1", "h:80/x", ""]
)
def test_what_is_not_a_host_port(value: str) -> None:
    with pytest.raises(ValueError, match="expected HOST:PORT"):
        split_host_port(value)


def test_a_bad_listen_setting_fails_at_load_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="ASSAY_NODE_LISTEN: 'localhost' is invalid"):
        load_settings({"ASSAY_NODE_LISTEN": "localhost"})
    with pytest.raises(ConfigError, match=r"ASSAY_NODE_ADVERTISE: '10\.0\.0\.5:99999' is invalid"):
        load_settings({"ASSAY_NODE_ADVERTISE": "10.0.0.5:99999"})
    settings = load_settings({"ASSAY_NODE_LISTEN": "[::]:5050", "ASSAY_NODE_ADVERTISE": ""})
    assert split_host_port(settings.node.listen) == ("::", 5050)
