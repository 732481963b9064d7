"""``admission.k8s.io/v1`` AdmissionReview: the request's parts the gate reads, and the response."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["AdmissionRequest", "AdmissionReview", "pod_images", "review_response"]


class _Kind(msgspec.Struct, frozen=True, kw_only=True):
    group: str = ""
    version: str = ""
    kind: str = ""


class AdmissionRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The request: what is being admitted, where, and the object itself (kept as JSON)."""

    uid: str
    kind: _Kind = msgspec.field(default_factory=_Kind)
    namespace: str = ""
    name: str = ""
    operation: str = ""
    object: dict[str, Any] | None = None
    dryRun: bool = False


class AdmissionReview(msgspec.Struct, frozen=True, kw_only=True):
    """The envelope the API server POSTs."""

    apiVersion: str
    kind: str
    request: AdmissionRequest | None = None


# the pod spec's place in each kind a pod comes from
_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def pod_images(kind: str, obj: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(container name, image) of every container, init and ephemeral container the object runs."""
    node: Any = obj or {}
    for key in _POD_SPEC_PATHS.get(kind, ()):
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict) or kind not in _POD_SPEC_PATHS:
        return []
    found: list[tuple[str, str]] = []
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in node.get(field) or []:
            if isinstance(container, dict) and isinstance(container.get("image"), str):
                found.append((str(container.get("name", "")), container["image"]))
    return found


def review_response(
    uid: str, *, allowed: bool, message: str = "", warnings: list[str] | None = None
) -> bytes:
    """The AdmissionReview the API server expects back (403 with the message when denied)."""
    response: dict[str, Any] = {"uid": uid, "allowed": allowed}
    if not allowed:
        response["status"] = {"code": 403, "message": message}
    if warnings:
        response["warnings"] = warnings
    return msgspec.json.encode(
        {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}
    )
