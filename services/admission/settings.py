"""The admission gate's settings (``assay service admission``): ``ASSAY_ADMISSION_<FIELD>``."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from services.common.hostport import HostPort


class AdmissionConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The webhook's address and TLS, the cluster it guards, and how it decides."""

    listen: HostPort = "127.0.0.1:8443"  # HOST:PORT of the webhook (the API server calls it over HTTPS)
    tls_cert: str = ""  # PEM certificate and key the webhook serves; both required
    tls_key: str = ""
    cluster: str = "in-cluster"  # the environment it guards is cluster:<cluster>
    mode: Literal["enforce", "warn"] = "enforce"  # enforce: deny images over threshold; warn: admit, warn
    fail_closed: bool = False  # deny images Assay cannot judge (unknown, unscanned, unresolvable)
    exempt_namespaces: list[str] = msgspec.field(default_factory=lambda: ["kube-system"])  # never looked at
    resolve_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 3.0  # resolving a tag through the registry
