"""JSON Schemas for the custom resources the chart renders, which kubernetes-validate does not know.

Written from each CRD's ``openAPIV3Schema`` (the served version the chart uses):

- ``KafkaTopic`` ``kafka.strimzi.io/v1beta2``: Strimzi's ``043-Crd-kafkatopic.yaml``;
- ``ScaledObject`` and ``TriggerAuthentication`` ``keda.sh/v1alpha1``: KEDA's
  ``keda.sh_scaledobjects.yaml`` / ``keda.sh_triggerauthentications.yaml``, the fields the chart uses.

Each schema covers the fields' types, bounds and required members as the CRD states them. Unlike the
CRDs, which silently prune unknown fields, the ``spec`` objects here forbid them
(``additionalProperties: false``), so a misspelt field fails the test instead of vanishing on
apply. ``metadata`` is checked for a name and namespace only (the API server validates the rest).
"""

from __future__ import annotations

from typing import Any, Final

_INT32: Final = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
_METADATA: Final = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 253},
        "namespace": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _resource(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": _METADATA,
            "spec": spec,
        },
    }


KAFKA_TOPIC: Final = _resource(
    "kafka.strimzi.io/v1beta2",
    "KafkaTopic",
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "partitions": {"type": "integer", "minimum": 1},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
            "config": {"type": "object"},  # x-kubernetes-preserve-unknown-fields
            "topicName": {"type": "string"},
        },
    },
)

SCALED_OBJECT: Final = _resource(
    "keda.sh/v1alpha1",
    "ScaledObject",
    {
        "type": "object",
        "additionalProperties": False,
        "required": ["scaleTargetRef", "triggers"],
        "properties": {
            "scaleTargetRef": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "name": {"type": "string"},
                    "envSourceContainerName": {"type": "string"},
                },
            },
            "minReplicaCount": _INT32,
            "maxReplicaCount": _INT32,
            "idleReplicaCount": _INT32,
            "pollingInterval": _INT32,
            "cooldownPeriod": _INT32,
            "triggers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["metadata", "type"],
                    "properties": {
                        "type": {"type": "string"},
                        "name": {"type": "string"},
                        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                        "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                        "useCachedMetrics": {"type": "boolean"},
                        "authenticationRef": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["name"],
                            "properties": {"name": {"type": "string"}, "kind": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
)

TRIGGER_AUTHENTICATION: Final = _resource(
    "keda.sh/v1alpha1",
    "TriggerAuthentication",
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "secretTargetRef": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["key", "name", "parameter"],
                    "properties": {
                        "key": {"type": "string"},
                        "name": {"type": "string"},
                        "parameter": {"type": "string"},
                    },
                },
            },
        },
    },
)

# (apiVersion, kind) -> schema
CRD_SCHEMAS: Final[dict[tuple[str, str], dict[str, Any]]] = {
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): KAFKA_TOPIC,
    ("keda.sh/v1alpha1", "ScaledObject"): SCALED_OBJECT,
    ("keda.sh/v1alpha1", "TriggerAuthentication"): TRIGGER_AUTHENTICATION,
}
