"""Registry settings given as host globs: how engines reach every node daemon of a cluster."""

from __future__ import annotations

from services.common.config import RegistryConfig
from services.oci.registry import RegistryClient, is_host_pattern

NODES = RegistryConfig(host="10.*:5050", insecure=True, username="assay", password="node-token", crawl=False)
EXACT = RegistryConfig(host="10.1.2.3:5050", username="other", password="x")


def test_a_glob_host_matches_node_addresses_and_an_exact_host_wins() -> None:
    client = RegistryClient([NODES, EXACT])
    assert client.config_for("10.4.0.17:5050") is NODES
    assert client.base_url("10.4.0.17:5050") == "http://10.4.0.17:5050"
    assert client.config_for("10.1.2.3:5050") is EXACT  # listed after the glob, still first
    assert client.config_for("10.4.0.17:5000") is None
    assert client.config_for("registry.example.com") is None
    assert client.base_url("registry.example.com") == "https://registry.example.com"


def test_only_globs_are_patterns() -> None:
    assert is_host_pattern("*:5050")
    assert is_host_pattern("node-?.internal:5050")
    assert not is_host_pattern("127.0.0.1:5000")
    assert not is_host_pattern("ghcr.io")
