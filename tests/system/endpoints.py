"""The only thing the harness changes in a container's configuration: where its endpoints are.

A manifest names PostgreSQL (a Secret's DSN), Kafka (the bootstrap), registries (their hosts, the
``ASSAY_REGISTRIES`` Secret), the Kubernetes API (the in-cluster service account), S3 and the
advisory source (the image's default, the public OSV export). ``container_env`` builds a process
environment from the container's own ``env`` list, replacing just those with the test's real
components, the way the cluster would resolve them:

* ``valueFrom.secretKeyRef`` reads the test's Secrets; a missing Secret or key fails the pod start,
  as ``CreateContainerConfigError`` does;
* ``valueFrom.fieldRef`` gets the pod's name, namespace and node;
* ``ASSAY_KAFKA_BOOTSTRAP`` and a literal ``ASSAY_PG_DSN`` (compose) point at the test's broker
  and database; every ``ASSAY_CLUSTERS`` entry without a kubeconfig (the in-cluster service
  account) gets a kubeconfig for the fake API server;
* a listen address (the API's, the admission webhook's, Harbor's adapter's) gets a free loopback
  port, since the pods share one network here; the node daemon, which advertises
  ``$(POD_IP):5050``, listens on its pod's own loopback address (``status.podIP``) at that port;
* ``$(VAR)`` in a value is expanded from the variables defined before it, as the kubelet does;
* the node daemon's containerd socket (a hostPath) is the test's containerd;
* a value under a volume's mount path is moved under that volume's directory for this pod;
* the registry's CA is trusted (``SSL_CERT_FILE``), as the nodes of a cluster would trust it;
* the advisory source, an endpoint the image defaults to the internet, is the test's mirror;
* a container configured with an S3 bucket or an AWS source (ECS, ECR) talks to the test's AWS
  (moto) instead of AWS, with the credentials the cloud gives the pod (IRSA) when the manifest
  names none.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.harness.registry import free_port
from tests.system.workloads import IMAGE_ENV, Container

__all__ = ["API_TOKEN", "API_TOKEN_SECRET", "ConfigError", "Endpoints", "container_env"]

# the API's bootstrap admin token (an Assay token's shape), in the Secret the chart names
API_TOKEN = f"assay_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
API_TOKEN_SECRET = ("assay-api-auth", "bootstrap-token")  # values.yaml: api.bootstrapToken

_LISTEN = ("ASSAY_API_LISTEN", "ASSAY_ADMISSION_LISTEN", "ASSAY_HARBOR_LISTEN")
_POD_LISTEN = ("ASSAY_NODE_LISTEN",)  # advertised as "$(POD_IP):PORT": the pod's own address, its port
_DEPENDENT = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")  # Kubernetes' $(VAR) in an env value
_ADVISORY_SOURCES = ("ASSAY_DB_SOURCE", "ASSAY_UPDATER_SOURCE")
# what a container inherits from the test runner: enough to run Python, nothing of Assay's
_INHERITED = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")
# a container with any of these set talks to AWS
_AWS_USERS = ("ASSAY_AWS_S3_BUCKET", "ASSAY_AWS_ECS", "ASSAY_AWS_ECR")


class ConfigError(RuntimeError):
    """The pod cannot start as configured (Kubernetes: CreateContainerConfigError)."""


@dataclass(frozen=True)
class Endpoints:
    """The test's real components standing in for the deployment's."""

    pg_dsn: str
    kafka_bootstrap: str
    kubeconfig: str = ""  # the fake API server, for the in-cluster service account
    ca_file: str = ""  # a bundle trusting the test registry's certificate
    advisory_source: str = ""  # the OSV export mirror (../shared/vulndata)
    secrets: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (Secret, key) -> value
    aws_endpoint: str = ""  # the AWS APIs (moto) for containers configured with a bucket, ECS or ECR
    aws_region: str = "us-east-1"  # what the cloud would give the pod when the chart names none
    node_name: str = "node-1"
    containerd_socket: str = ""  # the node's container runtime (a hostPath socket in the cluster)


def _secret(endpoints: Endpoints, ref: Mapping[str, Any], var: str) -> str | None:
    """The Secret's value; None when it is missing and the reference is ``optional`` (no variable)."""
    key = (str(ref["name"]), str(ref["key"]))
    if key not in endpoints.secrets:
        if ref.get("optional"):
            return None
        raise ConfigError(f"{var}: secret {key[0]!r} has no key {key[1]!r} in this test's cluster")
    return endpoints.secrets[key]


def pod_ip(pod: str) -> str:
    """A loopback address of ``pod``'s own, as each pod has its own IP: a port it listens on as
    configured (the node daemon's 5050) is then free on it, and what it advertises is reachable."""
    h = zlib.crc32(pod.encode())
    return f"127.{1 + h % 250}.{(h >> 8) % 256}.{1 + (h >> 16) % 250}"


def _field(path: str, pod: str, namespace: str, node: str) -> str:
    values = {
        "metadata.name": pod,
        "metadata.namespace": namespace,
        "spec.nodeName": node,
        "status.podIP": pod_ip(pod),
    }
    if path not in values:
        raise ConfigError(f"fieldRef {path!r} is not one the harness knows")
    return values[path]


def _clusters(value: str, kubeconfig: str) -> str:
    clusters = json.loads(value)
    for cluster in clusters:
        if not cluster.get("kubeconfig"):
            if not kubeconfig:
                raise ConfigError("ASSAY_CLUSTERS watches the in-cluster API, and the test has no API server")
            cluster["kubeconfig"] = kubeconfig
    return json.dumps(clusters)


def _endpoint(name: str, value: str, endpoints: Endpoints) -> str:
    if name == "ASSAY_KAFKA_BOOTSTRAP":
        return endpoints.kafka_bootstrap
    if name == "ASSAY_PG_DSN":
        return endpoints.pg_dsn
    if name == "ASSAY_CLUSTERS":
        return _clusters(value, endpoints.kubeconfig)
    if name in _LISTEN:
        return f"127.0.0.1:{free_port()}"
    return value


def _remount(value: str, volumes: Mapping[str, Path], mounts: tuple[tuple[str, str], ...]) -> str:
    for volume, mount in sorted(mounts, key=lambda m: -len(m[1])):
        if value == mount or value.startswith(mount.rstrip("/") + "/"):
            return str(volumes[volume]) + value[len(mount.rstrip("/")) :]
    return value


def container_env(
    container: Container,
    endpoints: Endpoints,
    *,
    pod: str,
    namespace: str,
    volumes: Mapping[str, Path],
) -> dict[str, str]:
    """The environment ``container`` of ``pod`` runs with; ``volumes``: volume name -> its directory."""
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    env.update({k: _remount(v, volumes, container.mounts) for k, v in IMAGE_ENV.items()})  # the image's ENV
    for var in container.env:
        name = str(var["name"])
        if "value" in var:
            value = _endpoint(name, str(var["value"]), endpoints)
        elif "secretKeyRef" in var.get("valueFrom", {}):
            secret = _secret(endpoints, var["valueFrom"]["secretKeyRef"], name)
            if secret is None:
                continue
            value = _endpoint(name, secret, endpoints)
        elif "fieldRef" in var.get("valueFrom", {}):
            value = _field(var["valueFrom"]["fieldRef"]["fieldPath"], pod, namespace, endpoints.node_name)
        else:
            raise ConfigError(f"{name}: a valueFrom the harness does not know: {var['valueFrom']}")
        if name in _POD_LISTEN:  # all addresses in the pod's network: here its own loopback address
            value = f"{pod_ip(pod)}:{value.rpartition(':')[2]}"
        # a reference to a variable defined above is expanded, as the kubelet does
        value = _DEPENDENT.sub(lambda m: env.get(m.group(1), m.group(0)), value)
        env[name] = _remount(value, volumes, container.mounts)
    if "ASSAY_CONTAINERD_SOCKET" in env:
        if not endpoints.containerd_socket:
            raise ConfigError("ASSAY_CONTAINERD_SOCKET: the test has no container runtime for this pod")
        env["ASSAY_CONTAINERD_SOCKET"] = endpoints.containerd_socket
    for name in _ADVISORY_SOURCES:
        if endpoints.advisory_source and name not in env:
            env[name] = endpoints.advisory_source
    if endpoints.aws_endpoint and any(env.get(name) for name in _AWS_USERS):
        env["ASSAY_AWS_ENDPOINT_URL"] = endpoints.aws_endpoint
        env.setdefault("ASSAY_AWS_REGION", endpoints.aws_region)
        if "ASSAY_AWS_ACCESS_KEY_ID" not in env:  # the pod's own identity, as IRSA would give it
            env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    if endpoints.ca_file:
        env["SSL_CERT_FILE"] = endpoints.ca_file
    tmp = [mount for _, mount in container.mounts if mount == "/tmp"]
    if tmp:
        env["TMPDIR"] = _remount("/tmp", volumes, container.mounts)
    return env
