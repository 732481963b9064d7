"""Scan targets: how a user names an image, parsed into an ``ImageSource``.

Target syntax::

    oci:DIR[:TAG]              an OCI image layout directory; TAG picks the manifest whose
                               org.opencontainers.image.ref.name annotation is TAG
    oci-archive:FILE[:TAG]     a tar of an OCI image layout (skopeo oci-archive), read in place
    docker-archive:FILE[:REF]  a `docker save` / skopeo docker-archive tarball; REF picks an
                               image by its RepoTags when the archive holds several
    dir:PATH                   a directory that is the image's root filesystem
    registry:REF               an image in a registry (docker:// is accepted as a synonym)
    REF                        a bare image reference, pulled from its registry

REF is a Docker image reference: ``[HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST]``. Without a
host it means Docker Hub (``alpine`` is ``docker.io/library/alpine:latest``). Registries
are reached over HTTPS unless configured ``insecure``; credentials come from the registry
configuration. From an index or manifest list the platform is chosen by the ``platform``
setting (``os/arch[/variant]``, default ``linux/amd64``).

A path may itself contain ``:``; the longest-existing-path rule decides: the whole text is
the path if it exists, otherwise it is split at the first ``:`` after which the prefix
exists.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from services.common.config import RegistryConfig
from services.common.errors import ReferenceError_
from services.engine.budget import ScanBudget
from services.engine.image.directory import DirectorySource
from services.engine.image.docker_archive import DockerArchiveSource
from services.engine.image.interface import ImageSource
from services.engine.image.oci_archive import OCIArchiveSource
from services.engine.image.oci_layout import OCILayoutSource
from services.engine.image.registry_source import RegistrySource
from services.oci.registry import RegistryClient

__all__ = ["TRANSPORTS", "parse_target"]

TRANSPORTS = ("oci", "oci-archive", "docker-archive", "dir", "registry")
"""The explicit transport prefixes ``parse_target`` understands."""


def _split_path(rest: str, exists: Callable[[str], bool]) -> tuple[str, str]:
    if exists(rest):
        return rest, ""
    start = 0
    while (i := rest.find(":", start)) != -1:
        if i > 0 and exists(rest[:i]):
            return rest[:i], rest[i + 1 :]
        start = i + 1
    return rest, ""


def parse_target(
    target: str,
    *,
    registries: Sequence[RegistryConfig] = (),
    platform: str = "linux/amd64",
    client_factory: Callable[[Sequence[RegistryConfig]], RegistryClient] | None = None,
    budget: ScanBudget = ScanBudget(),
) -> ImageSource:
    """Parse a scan target (see the module docstring) into the source that opens it.

    ``client_factory`` builds the ``RegistryClient`` of a registry target (e.g. with ECR
    credentials and registry host overrides); default: a plain ``RegistryClient``. ``budget``
    bounds what opening the image may cost (temporary disk, archive members).

    Raises ``ReferenceError_`` for an empty target, an empty path, or a bad reference.
    Nothing is read here beyond checking which prefix of a path exists.
    """
    text = target.strip()
    if not text:
        raise ReferenceError_("empty scan target")
    transport, sep, rest = text.partition(":")
    if text.startswith("docker://"):
        transport, rest = "registry", text[len("docker://") :]
    elif not sep or transport not in TRANSPORTS:
        return RegistrySource(
            text, registries=registries, platform=platform, target=text, client_factory=client_factory
        )
    if not rest:
        raise ReferenceError_(f"{text!r}: nothing after {transport}:")
    if transport == "registry":
        return RegistrySource(
            rest, registries=registries, platform=platform, target=text, client_factory=client_factory
        )
    if transport == "dir":
        return DirectorySource(rest, target=text)
    if transport == "oci":
        path, tag = _split_path(rest, os.path.isdir)
        return OCILayoutSource(path, tag, platform=platform, target=text)
    path, tag = _split_path(rest, os.path.isfile)
    if not path:
        raise ReferenceError_(f"{text!r}: no file name")
    if transport == "oci-archive":
        return OCIArchiveSource(path, tag, platform=platform, target=text, budget=budget)
    return DockerArchiveSource(path, tag, target=text, budget=budget)
