"""The chart's agent mode, installed exactly as ``assay environments add cluster NAME --agent`` says.

The printed ``helm install`` line is parsed back with Helm's ``--set`` rules (``--set`` reads
booleans, ``--set-string`` keeps strings, ``\\,`` is a literal comma) and rendered with Helm's Go
SDK; the printed ``kubectl create secret`` lines are the Secrets the rendered pods reference.
"""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest

from deploy.render import lint
from services.common.config import kafka_security
from services.inventory.onboarding import AgentAuth, agent_instructions
from services.inventory.store import Environment
from services.oci.nodetoken import generate_keypair, public_key_of
from services.settings import load_settings
from tests.deploy.agent_install import helm_values, printed_secrets
from tests.deploy.manifests import by_name, containers, objects, of_kind, pod_specs, settings_env_vars

BOOTSTRAP = "kafka-1.central.example:9093,kafka-2.central.example:9093"
ENV = Environment(kind="cluster", name="edge-1", mode="agent", ou="retail")


def printed(auth: AgentAuth) -> tuple[list[str], dict[str, Any], str]:
    """The printed lines, the values of their helm command, and the generated password."""
    password = "pw-generated-once"
    lines = agent_instructions(ENV, BOOTSTRAP, password, auth)
    return lines, helm_values(lines), password


def test_the_agent_s_node_daemons_get_the_engines_public_key() -> None:
    """The key comes from this machine's settings when they hold the engines' node_key; else a
    placeholder that the printed lines explain (never a daemon with no way to check engines)."""
    private, public = generate_keypair()
    lines = agent_instructions(ENV, BOOTSTRAP, "pw", "scram", public_key_of(private))
    assert helm_values(lines)["node"]["publicKey"] == public
    assert not any("NODE_PUBLIC_KEY" in line for line in lines)
    placeholder, values, _ = printed("scram")
    assert values["node"]["publicKey"] == "NODE_PUBLIC_KEY"
    assert any(
        "NODE_PUBLIC_KEY: the public half of the central engines' node_key" in line for line in placeholder
    )


def _env(container: dict[str, Any], secrets: dict[tuple[str, str], str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for var in container["env"]:
        if "value" in var:  # Kubernetes expands $(VAR) from the pod's other variables: its IP here
            env[var["name"]] = re.sub(r"\$\([A-Za-z_]\w*\)", "10.0.0.1", var["value"])
        elif "secretKeyRef" in var.get("valueFrom", {}):
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = secrets[(ref["name"], ref["key"])]  # KeyError: not a printed Secret
    return env


@pytest.mark.parametrize("auth", ["scram", "mtls"])
def test_the_printed_install_renders_only_the_agent_and_validates(auth: AgentAuth) -> None:
    _, values, _ = printed(auth)
    objs = objects(values)
    workloads = {(o["kind"], o["metadata"]["name"]) for o, _ in pod_specs(objs)}
    assert workloads == {("Deployment", "assay-inventory"), ("DaemonSet", "assay-node")}
    kinds = {o["kind"] for o in objs}
    assert kinds.isdisjoint({"KafkaTopic", "ScaledObject", "PersistentVolumeClaim", "Service", "Namespace"})
    assert kinds.isdisjoint({"ValidatingWebhookConfiguration", "Secret", "TriggerAuthentication"})
    roles = [o for o in objs if o["kind"] in ("ClusterRole", "Role")]
    assert [r["metadata"]["name"] for r in roles] == ["assay-inventory"]  # pods list/watch, nothing else
    assert roles[0]["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]}]
    for obj in objs:
        kubernetes_validate.validate(obj, "1.30.0", strict=True)
    assert lint(values) == {"total_charts_linted": 1, "messages": [], "errors": []}


def test_the_inventory_runs_with_exactly_the_printed_settings() -> None:
    lines, values, password = printed("scram")
    objs = objects(values)
    secrets = printed_secrets(lines, "assay")
    (inventory,) = by_name(objs, "Deployment", "assay-inventory")["spec"]["template"]["spec"]["containers"]
    env = _env(inventory, secrets)
    assert set(env) <= settings_env_vars()
    assert env["ASSAY_KAFKA_BOOTSTRAP"] == BOOTSTRAP
    assert {"ASSAY_PG_DSN", "ASSAY_REGISTRIES", "ASSAY_OBJECT_STORE_DIR", "ASSAY_AWS_S3_BUCKET"}.isdisjoint(
        env
    )
    settings = load_settings(env)
    (cluster,) = settings.clusters
    assert (cluster.name, cluster.ou, cluster.kubeconfig) == ("edge-1", "retail", "")  # in-cluster account
    security = kafka_security(settings.kafka)
    assert (security.protocol, security.sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    assert (security.username, security.password) == ("assay-agent-edge-1", password)
    assert (
        f"--entity-name assay-agent-edge-1 --add-config 'SCRAM-SHA-512=[password={password}]'"
        in "\n".join(lines)
    )
    mounts = {m["mountPath"]: m["name"] for m in inventory["volumeMounts"]}
    volumes = {
        v["name"]: v
        for v in by_name(objs, "Deployment", "assay-inventory")["spec"]["template"]["spec"]["volumes"]
    }
    ca_volume = volumes[mounts["/etc/assay/kafka-tls/ca"]]["secret"]
    assert security.ssl_cafile == "/etc/assay/kafka-tls/ca/ca.crt"
    assert (ca_volume["secretName"], "ca.crt") in secrets  # the printed CA Secret, its key


def test_the_node_daemon_reads_the_same_secrets_in_its_own_namespace() -> None:
    lines, values, _ = printed("scram")
    node = by_name(objects(values), "DaemonSet", "assay-node")
    assert node["metadata"]["namespace"] == "assay-node"
    env = _env(node["spec"]["template"]["spec"]["containers"][0], printed_secrets(lines, "assay-node"))
    assert env["ASSAY_NODE_CLUSTER"] == "edge-1"
    settings = load_settings(env)
    assert settings.node.ou == "retail"  # the node's sightings carry the agent's OU, as inventory's do
    assert kafka_security(settings.kafka).username == "assay-agent-edge-1"


def test_mtls_mounts_the_client_certificate_and_needs_no_sasl() -> None:
    lines, values, _ = printed("mtls")
    objs = objects(values)
    spec = by_name(objs, "Deployment", "assay-inventory")["spec"]["template"]["spec"]
    env = _env(spec["containers"][0], printed_secrets(lines, "assay"))
    security = kafka_security(load_settings(env).kafka)
    assert (security.protocol, security.sasl_mechanism) == ("SSL", "")
    assert (security.ssl_certfile, security.ssl_keyfile) == (
        "/etc/assay/kafka-tls/client/tls.crt",
        "/etc/assay/kafka-tls/client/tls.key",
    )
    client = {v["name"]: v for v in spec["volumes"]}["kafka-client"]["secret"]
    assert client["secretName"] == "assay-kafka-client"
    assert (
        "--allow-principal User:CN=assay-agent-edge-1 --operation Write --topic assay.inventory.v1"
        in "\n".join(lines)
    )


def test_agent_network_policies_reach_an_outside_kafka_and_let_no_one_in_by_default() -> None:
    _, values, _ = printed("scram")
    values["kafka"]["cidrs"] = ["203.0.113.0/28"]
    objs = objects(values)
    kafka = by_name(objs, "NetworkPolicy", "assay-kafka")["spec"]["egress"][0]["to"]
    assert kafka == [{"ipBlock": {"cidr": "203.0.113.0/28"}}]
    node = by_name(objs, "NetworkPolicy", "assay-node")["spec"]
    assert "ingress" not in node  # nothing may call it
    assert node["policyTypes"] == ["Ingress", "Egress"]
    assert {o["metadata"]["name"] for o in of_kind(objs, "NetworkPolicy")} >= {
        "assay-default-deny",
        "assay-dns",
    }
    values["node"]["ingressFrom"] = [{"ipBlock": {"cidr": "10.20.0.0/16"}}]  # the central engines
    node = by_name(objects(values), "NetworkPolicy", "assay-node")["spec"]
    assert node["ingress"][0]["from"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"mode": "remote"}, "neither central nor agent"),
        ({"mode": "agent", "inventory": {"watchCluster": {"enabled": False}}}, "watches its own cluster"),
    ],
)
def test_a_wrong_mode_fails_the_render(values: dict[str, Any], message: str) -> None:
    with pytest.raises(Exception, match=message):  # helm-python-sdk raises its own error type
        objects(values)


def test_every_container_of_the_agent_is_locked_down() -> None:
    _, values, _ = printed("scram")
    for workload, spec in pod_specs(objects(values)):
        for c in containers(spec):
            assert c["securityContext"]["readOnlyRootFilesystem"] is True, workload["metadata"]["name"]
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
            assert c["resources"]["limits"]
            assert c["resources"]["requests"]
