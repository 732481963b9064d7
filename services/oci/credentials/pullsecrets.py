"""Kubernetes image pull secrets: ``kubernetes.io/dockerconfigjson`` and ``kubernetes.io/dockercfg``.

A pod names its secrets (``spec.imagePullSecrets``); the kubelet pulls its images with the first
of them whose key matches the image's registry. ``parse_pull_secret`` reads a Secret's ``type``
and ``data`` (values base64, as the API returns them); ``PullSecretCredentials`` holds the secrets
read so far and answers, for a host, from the secrets named for it (``for_secrets``), so one
workload's secret is never used for another's images. Keys may be globs (``*.gcr.io``), as the
kubelet allows. Helpers in a secret are ignored: a secret cannot run programs here.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
from collections.abc import Iterable, Mapping

import msgspec

from services.common.errors import ConfigError
from services.oci.credentials.base import Credentials
from services.oci.credentials.dockerconfig import (
    AuthEntry,
    ConfigFile,
    DockerConfig,
    docker_config_from,
    parse_docker_config,
)

__all__ = ["DOCKERCFG", "DOCKERCONFIGJSON", "PullSecretCredentials", "parse_pull_secret"]

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
DOCKERCFG = "kubernetes.io/dockercfg"
_KEYS = {DOCKERCONFIGJSON: ".dockerconfigjson", DOCKERCFG: ".dockercfg"}


def parse_pull_secret(secret_type: str, data: Mapping[str, str], source: str) -> DockerConfig:
    """The registry credentials of a pull secret; ``ConfigError`` naming ``source`` when it is not one."""
    key = _KEYS.get(secret_type)
    if key is None:
        raise ConfigError(f"{source}: type {secret_type!r} is not an image pull secret")
    encoded = data.get(key)
    if not encoded:
        raise ConfigError(f"{source}: no {key!r} in its data")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{source}: {key!r} is not base64") from exc
    if secret_type == DOCKERCONFIGJSON:
        config = parse_docker_config(raw, source)
    else:  # the legacy ~/.dockercfg: the "auths" map itself, at the top level
        try:
            auths = msgspec.json.decode(raw, type=dict[str, AuthEntry])
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ConfigError(f"{source}: not a .dockercfg: {exc}") from exc
        config = docker_config_from(ConfigFile(auths=auths), source)
    return DockerConfig(auths=config.auths, helpers={})


def _lookup(config: DockerConfig, host: str) -> Credentials | None:
    found = config.auths.get(host)
    if found is not None:
        return found
    for pattern, creds in config.auths.items():
        if any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(host, pattern):
            return creds
    return None


class PullSecretCredentials:
    """Pull secrets by ``namespace/name``; ``for_secrets`` is the provider for one pod's secrets."""

    name = "pull secrets"

    def __init__(self) -> None:
        self._secrets: dict[str, DockerConfig] = {}

    def put(self, ref: str, config: DockerConfig) -> None:
        """Remember (or replace) the secret ``namespace/name``."""
        self._secrets[ref] = config

    def discard(self, ref: str) -> None:
        """Forget a secret (deleted, or no pod names it any more)."""
        self._secrets.pop(ref, None)

    def for_secrets(self, refs: Iterable[str]) -> _Scoped:
        """A provider answering only from ``refs``, in the pod's order (the kubelet's rule)."""
        return _Scoped(self, tuple(refs))

    def lookup(self, refs: Iterable[str], host: str) -> Credentials | None:
        """The first of ``refs`` holding credentials for ``host``."""
        for ref in refs:
            config = self._secrets.get(ref)
            if config is not None:
                found = _lookup(config, host)
                if found is not None:
                    return found
        return None


class _Scoped:
    def __init__(self, store: PullSecretCredentials, refs: tuple[str, ...]) -> None:
        self.name = f"pull secrets {', '.join(refs)}"
        self._store = store
        self._refs = refs

    async def credentials(self, host: str) -> Credentials | None:
        return self._store.lookup(self._refs, host)
