"""The node daemon's settings (``assay service node``, one per Kubernetes node)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.common.hostport import HostPort, OptionalHostPort


class NodeSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``ASSAY_NODE_<FIELD>``: which node, and the read-only OCI endpoint engines pull from."""

    name: str = ""  # this node's name (the downward API's spec.nodeName)
    cluster: str = ""  # the cluster it belongs to: images are reported as "cluster:<cluster>"
    ou: str = ""  # that cluster's organisational unit, carried on every sighting (as inventory's)
    listen: HostPort = "0.0.0.0:5050"  # HOST:PORT of its read-only OCI distribution endpoint
    advertise: OptionalHostPort = ""  # HOST:PORT engines pull from (the registry in its ImageDiscovered)
    token: str = ""  # the endpoint's token (Bearer, or the Basic password); never logged
    # base64 Ed25519 public key: the endpoint then takes only engine-signed, per-node, per-repository
    # pull tokens (services/oci/nodetoken.py) instead of token
    public_key: str = ""
    report_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 300.0  # every image reported again this often


class ContainerdSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``ASSAY_CONTAINERD_<FIELD>``: the node's containerd."""

    socket: str = "/run/containerd/containerd.sock"  # CRI and containerd's API
    namespace: str = "k8s.io"  # the kubelet's namespace (the only one CRI shows)
