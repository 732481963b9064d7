"""Shared helpers of the deploy tests: rendered objects, their pods and containers, Settings env names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from deploy.render import manifests
from services.settings import env_names as setting_env_names

ROOT = Path(__file__).resolve().parents[2]

# values that turn every toggle the other way from the defaults
# the public half of an Ed25519 node key pair (services/oci/nodetoken.generate_keypair), as operators set it
NODE_PUBLIC_KEY = "Trk8tadWoUCPKEjD6vXHyWQJc6Y0bcmRqdWCvBTbFy0="

CUSTOM: dict[str, Any] = {
    "image": {"tag": "9.9.9"},
    "imageScan": {"maxImageSizeMb": 4096},
    "kafka": {
        "bootstrap": "broker-0.example:9093,broker-1.example:9093",
        "auth": {"existingSecret": "kafka-creds"},
        "topics": {"partitions": 24, "replicas": 2, "strimziCluster": "prod"},
    },
    "postgresql": {"existingSecret": "pg", "cidrs": ["10.20.0.0/16"]},
    "registries": {"existingSecret": "registries"},
    "inventory": {"watchCluster": {"namespaces": ["shop", "ops"], "ownerLookups": True}},
    "engine": {
        "replicas": 3,
        "autoscaling": {"enabled": False},
        "advisoryDb": {"source": "https://mirror.example/osv"},
    },
    "dedupe": {"replicas": 4},
    "node": {"enabled": True, "publicKey": NODE_PUBLIC_KEY},
    "updater": {"enabled": True, "intervalSeconds": 3600, "source": "https://mirror.example/osv"},
    "objectStore": {"s3Bucket": "assay-prod", "credentialsSecret": "aws-creds", "region": "eu-west-1"},
    "admission": {"enabled": True},
    "harbor": {"enabled": True, "apiKeySecret": "harbor-key"},
}


# a remote cluster's agent (mode: agent) with SASL and mTLS both set, reaching a Kafka outside it
AGENT: dict[str, Any] = {
    "mode": "agent",
    "kafka": {
        "bootstrap": "kafka.central.example:9093",
        "cidrs": ["203.0.113.0/28"],
        "auth": {"existingSecret": "assay-kafka"},
        "tls": {"caSecret": "assay-kafka-ca", "clientSecret": "assay-kafka-client"},
    },
    "inventory": {"watchCluster": {"name": "edge-1", "ou": "retail"}},
    "node": {
        "enabled": True,
        "publicKey": NODE_PUBLIC_KEY,
        "ingressFrom": [{"ipBlock": {"cidr": "10.20.0.0/16"}}],
    },
}


def objects(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return manifests(values)


def of_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def by_name(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in of_kind(objs, kind) if o["metadata"]["name"] == name]
    return found


def pod_specs(objs: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(workload, pod spec) for every Deployment and DaemonSet."""
    for o in objs:
        if o["kind"] in ("Deployment", "DaemonSet", "StatefulSet", "Job"):
            yield o, o["spec"]["template"]["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def env_names(objs: list[dict[str, Any]]) -> set[str]:
    return {e["name"] for _, spec in pod_specs(objs) for c in containers(spec) for e in c.get("env", [])}


def settings_env_vars() -> set[str]:
    """Every ``ASSAY_*`` variable the settings read (derived from their field paths), and ``ASSAY_CONFIG``."""
    return setting_env_names() | {"ASSAY_CONFIG"}
