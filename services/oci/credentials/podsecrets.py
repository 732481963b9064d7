"""What the pods' pull secrets gave one pull: the typed answer of ``kube.PullSecretResolver``.

Kept apart from ``kube.py`` so the isolated scan child, which receives these in its request,
never imports the Kubernetes client (several seconds of imports for a process that scans once).
"""

from __future__ import annotations

import msgspec

from services.oci.credentials.base import CredentialProvider, Credentials
from services.oci.credentials.dockerconfig import DockerConfig
from services.oci.credentials.pullsecrets import PullSecretCredentials

__all__ = ["PodPullSecrets", "ResolvedPullSecret"]


class ResolvedPullSecret(msgspec.Struct, frozen=True, kw_only=True):
    """One pull secret as read for one pull: ``namespace/name`` and its credentials by API host."""

    ref: str
    auths: dict[str, Credentials]


class PodPullSecrets(msgspec.Struct, frozen=True, kw_only=True):
    """What ``resolve`` found for one pull: the secrets read, and the ones that could not be."""

    secrets: list[ResolvedPullSecret] = []
    problems: list[str] = []  # "pull secret shop/regcred in cluster:eu: not found", ...

    def provider(self) -> CredentialProvider | None:
        """The provider answering from these secrets only, in the pods' order; None without any."""
        if not self.secrets:
            return None
        store = PullSecretCredentials()
        for secret in self.secrets:
            store.put(secret.ref, DockerConfig(auths=dict(secret.auths), helpers={}))
        return store.for_secrets([s.ref for s in self.secrets])
