"""Onboarding a cluster: checking its kubeconfig, and how to install a registered agent (the Kafka
user and ACLs, its Secrets, the Helm command).

One source for ``assay environments add`` (``services/cli/environments.py``) and the API's
``POST /v1/environments`` (``services/api/environments.py``).

``assay environments add cluster NAME --agent`` prints these. The chart's agent mode
(``deploy/helm/assay``, ``mode: agent``) runs the cluster's inventory watch and node daemons only,
publishing to the central Kafka; ``agent_values`` is the one source of the values it is installed
with, and the printed ``helm install`` is those values as ``--set`` flags, nothing else. The agent
authenticates with a SCRAM-SHA-512 user (``scram``: the password is generated here, printed once and
stored nowhere) or with a client certificate (``mtls``: the broker maps its subject to the principal).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any, Literal

import yaml

from schemas.topics import Topics
from services.common.config import RegistryConfig
from services.common.errors import ConfigError
from services.inventory.store import Environment

__all__ = [
    "AgentAuth",
    "agent_instructions",
    "agent_values",
    "check_kubeconfig",
    "helm_command",
    "node_public_key",
]

AgentAuth = Literal["scram", "mtls"]

NAMESPACE = "assay"  # values.yaml: namespace.name
NODE_NAMESPACE = "assay-node"  # values.yaml: node.namespace
KAFKA_SECRET = "assay-kafka"  # SASL: keys mechanism, username, password
CA_SECRET = "assay-kafka-ca"  # key ca.crt: the central brokers' CA bundle
CLIENT_SECRET = "assay-kafka-client"  # mTLS: a kubernetes.io/tls Secret
CHART = "deploy/helm/assay"
NODE_KEY_PLACEHOLDER = "NODE_PUBLIC_KEY"  # printed when the central engines' node_key is not configured here
_ESCAPED_COMMA = "\\,"  # Helm's --set reads "a,b" as two assignments, and a backslash keeps the comma


def agent_user(env: Environment) -> str:
    """The agent's Kafka user name (SCRAM) or its certificate's common name (mTLS)."""
    return f"assay-agent-{env.name}"


def agent_values(
    env: Environment, bootstrap: str, auth: AgentAuth, node_public_key: str = NODE_KEY_PLACEHOLDER
) -> dict[str, str | bool]:
    """The chart values of ``env``'s agent, by Helm ``--set`` path: the only ones it needs
    (``node_public_key``: the public half of the central engines' ``node_key``)."""
    values: dict[str, str | bool] = {
        "mode": "agent",
        "namespace.create": False,  # made beforehand, so that its Secrets exist when pods start
        "kafka.bootstrap": bootstrap,
        "kafka.tls.caSecret": CA_SECRET,
        "inventory.watchCluster.name": env.name,
        "node.enabled": True,
        "node.publicKey": node_public_key,  # the daemons accept only pull tokens the engines signed
    }
    if env.ou:
        values["inventory.watchCluster.ou"] = env.ou
    if auth == "scram":
        values["kafka.auth.existingSecret"] = KAFKA_SECRET
        values["kafka.auth.securityProtocol"] = "SASL_SSL"
    else:
        values["kafka.tls.clientSecret"] = CLIENT_SECRET
    return values


def helm_command(values: dict[str, str | bool]) -> str:
    """``helm install`` of the chart with ``values``: ``--set`` for a boolean, ``--set-string`` for a
    string (never read as a number), commas escaped (Helm splits assignments on them)."""
    flags = []
    for key, value in values.items():
        if isinstance(value, bool):
            flags.append(f"--set {key}={str(value).lower()}")
        else:
            escaped = value.replace(",", _ESCAPED_COMMA)
            flags.append("--set-string " + shlex.quote(f"{key}={escaped}"))
    return f"helm install assay-agent {CHART} {' '.join(flags)}"


def _kafka_user_commands(user: str, password: str, bootstrap: str, auth: AgentAuth) -> list[str]:
    broker = bootstrap or "BROKER"
    principal = f"User:{user}" if auth == "scram" else f"User:CN={user}"
    lines = []
    if auth == "scram":
        lines.append(
            f"  kafka-configs.sh --bootstrap-server {broker} --alter --entity-type users"
            f" --entity-name {user} --add-config 'SCRAM-SHA-512=[password={password}]'"
        )
    # Write implies Describe on that topic: the agent's start checks only that topic exists
    lines.append(
        f"  kafka-acls.sh --bootstrap-server {broker} --add --allow-principal {principal}"
        f" --operation Write --topic {Topics.INVENTORY}"
    )
    return lines


def _secret_commands(user: str, password: str, auth: AgentAuth) -> list[str]:
    lines = [
        f"  kubectl create namespace {NAMESPACE}",
        f"  kubectl label namespace {NAMESPACE} pod-security.kubernetes.io/enforce=restricted",
        f"  kubectl create namespace {NODE_NAMESPACE}",
        f"  kubectl label namespace {NODE_NAMESPACE} pod-security.kubernetes.io/enforce=privileged",
    ]
    for ns in (NAMESPACE, NODE_NAMESPACE):  # the node daemons read the same Secrets in their namespace
        lines.append(
            f"  kubectl -n {ns} create secret generic {CA_SECRET} --from-file=ca.crt=CENTRAL_KAFKA_CA.pem"
        )
        if auth == "scram":
            lines.append(
                f"  kubectl -n {ns} create secret generic {KAFKA_SECRET}"
                " --from-literal=mechanism=SCRAM-SHA-512"
                f" --from-literal=username={user} --from-literal=password={shlex.quote(password)}"
            )
        else:
            lines.append(
                f"  kubectl -n {ns} create secret tls {CLIENT_SECRET} --cert={user}.crt --key={user}.key"
            )
    return lines


def agent_instructions(
    env: Environment, bootstrap: str, password: str, auth: AgentAuth = "scram", node_public_key: str = ""
) -> list[str]:
    """What to run for ``env``'s agent: the Kafka user and ACL (central side), then the namespaces,
    Secrets and ``helm install`` (in the agent's cluster). ``password`` is printed once (scram);
    ``node_public_key``: the public half of the engines' ``node_key`` ("": a placeholder to fill)."""
    user = agent_user(env)
    shown = bootstrap or "<the central Kafka, reachable from that cluster>"
    lines = [f"1. On the central Kafka ({shown}), allow the agent to write {Topics.INVENTORY} only:"]
    if auth == "mtls":
        lines.append(
            f"   (issue it a client certificate {user}.crt/.key, subject CN={user}, from the client CA)"
        )
    lines += _kafka_user_commands(user, password, bootstrap, auth)
    lines.append(f"2. In cluster {env.name} (CENTRAL_KAFKA_CA.pem: the CA bundle of the central brokers):")
    lines += _secret_commands(user, password, auth)
    if not node_public_key:
        lines.append(
            f"   ({NODE_KEY_PLACEHOLDER}: the public half of the central engines' node_key on their *:5050"
            " registry entry; docs/onboarding.md, 'the node daemon's keys')"
        )
    values = agent_values(
        env, shown if bootstrap else "BOOTSTRAP", auth, node_public_key or NODE_KEY_PLACEHOLDER
    )
    lines.append("  " + helm_command(values))
    return lines


def check_kubeconfig(text: str, context: str) -> None:
    """``ConfigError`` unless ``text`` is a kubeconfig with ``context`` (or a current-context). A YAML
    error is named by its position only: PyYAML's own message quotes the line, which may hold a
    credential, and the message reaches the CLI's stderr and the API's answers."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ConfigError(f"not YAML{where}") from None
    if not isinstance(data, dict) or not isinstance(data.get("contexts"), list):
        raise ConfigError("not a kubeconfig: no contexts")
    names = {c.get("name") for c in data["contexts"] if isinstance(c, dict)}
    wanted = context or data.get("current-context") or ""
    if not wanted:
        raise ConfigError("the kubeconfig has no current-context: name one with --context")
    if wanted not in names:
        raise ConfigError(
            f"the kubeconfig has no context {wanted!r} (it has: {', '.join(sorted(map(str, names)))})"
        )


def node_public_key(registries: Sequence[RegistryConfig]) -> str:
    """The public half of the engines' node key when these registry settings hold it, else ""."""
    from services.oci.nodetoken import public_key_of  # cryptography: only when a key is configured

    keys = [r.node_key for r in registries if r.node_key]
    return public_key_of(keys[0]) if keys else ""
