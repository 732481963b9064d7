"""Pure functions from a Pod object, as the Kubernetes API returns it (JSON as a dict), to images.

No network, no clock: the watcher resolves the owning workload and passes the time in. A container
whose image cannot be identified by a repository digest is reported as a problem (text naming the
pod, the container and the reason) and the other containers go on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from services.common.errors import ReferenceError_
from services.oci.reference import parse_reference

__all__ = [
    "ContainerImage",
    "ImageKey",
    "OwnerRef",
    "PodImages",
    "Sighting",
    "Workload",
    "controller_of",
    "is_running",
    "parse_image_id",
    "pod_images",
    "pod_uid",
    "pull_secret_refs",
    "resource_version",
    "sightings",
]

# Runtimes prefix imageID with a scheme: dockershim "docker-pullable://" (and "docker://" for an image
# known only by its local ID), some CRI-O and containerd builds their own name.
_SCHEMES: Final = ("docker-pullable://", "docker://", "containerd://", "cri-o://")
_DIGEST_RE: Final = re.compile(r"sha256:[0-9a-f]{64}")

# (spec field, status field) for every kind of container a pod can have
_CONTAINER_FIELDS: Final = (
    ("initContainers", "initContainerStatuses"),
    ("containers", "containerStatuses"),
    ("ephemeralContainers", "ephemeralContainerStatuses"),
)

Obj = Mapping[str, Any]


class ImageKey(msgspec.Struct, frozen=True):
    """An image as a cluster environment links it: ``registry/repository@digest``."""

    registry: str
    repository: str
    digest: str


class Workload(msgspec.Struct, frozen=True):
    """The workload that owns a pod: ``Deployment payments/api``; a bare pod owns itself."""

    kind: str
    namespace: str
    name: str


class OwnerRef(msgspec.Struct, frozen=True):
    """The controlling entry of an object's ``metadata.ownerReferences``."""

    kind: str
    name: str
    api_version: str = ""


class Sighting(msgspec.Struct, frozen=True):
    """One image running in one container of one workload's pods: one ``ImageDiscovered``."""

    image: ImageKey
    tag: str
    workload: Workload
    container: str = ""  # the pod spec's container (init and ephemeral containers included)
    # the pod's ``imagePullSecrets`` as "namespace/name", in the pod's order: references only
    pull_secrets: tuple[str, ...] = ()


class ContainerImage(msgspec.Struct, frozen=True):
    """The image one container of a pod runs, and the tag its spec names."""

    container: str
    image: ImageKey
    tag: str


class PodImages(msgspec.Struct, frozen=True):
    """The images of a pod's containers, and the containers that could not be identified."""

    images: list[ContainerImage]  # one per identified container, in container order
    problems: list[str]


def _field(obj: Obj, name: str) -> Obj:
    value = obj.get(name)
    return value if isinstance(value, Mapping) else {}


def _meta(obj: Obj) -> Obj:
    return _field(obj, "metadata")


def pod_uid(pod: Obj) -> str:
    """The pod's ``metadata.uid`` (namespace/name when a fake or partial object has none)."""
    meta = _meta(pod)
    return str(meta.get("uid") or f"{meta.get('namespace', '')}/{meta.get('name', '')}")


def resource_version(obj: Obj) -> str:
    """``metadata.resourceVersion`` of an object or a list (empty when absent)."""
    return str(_meta(obj).get("resourceVersion") or "")


def is_running(pod: Obj) -> bool:
    """Only Running pods count: Pending ones have not pulled, Succeeded/Failed ones have stopped."""
    status = pod.get("status")
    return isinstance(status, Mapping) and status.get("phase") == "Running"


def controller_of(obj: Obj) -> OwnerRef | None:
    """The ``ownerReferences`` entry with ``controller: true`` (there is at most one)."""
    refs = _meta(obj).get("ownerReferences")
    if not isinstance(refs, list):
        return None
    for ref in refs:
        if isinstance(ref, Mapping) and ref.get("controller") and ref.get("kind") and ref.get("name"):
            return OwnerRef(
                kind=str(ref["kind"]), name=str(ref["name"]), api_version=str(ref.get("apiVersion", ""))
            )
    return None


def parse_image_id(image_id: str) -> ImageKey | None:
    """``docker-pullable://nginx@sha256:…`` or ``docker.io/library/nginx@sha256:…`` to an ImageKey.

    None when there is no ``repository@sha256:`` part: a bare ``sha256:…`` (or ``docker://sha256:…``)
    is the local image ID, a config digest, which no registry serves.
    """
    text = image_id.strip()
    for scheme in _SCHEMES:
        if text.startswith(scheme):
            text = text[len(scheme) :]
            break
    name, sep, digest = text.rpartition("@")
    if not sep or not name or not _DIGEST_RE.fullmatch(digest):
        return None
    try:
        ref = parse_reference(f"{name.split('@', 1)[0]}@{digest}")
    except ReferenceError_:
        return None
    return ImageKey(registry=ref.registry, repository=ref.repository, digest=digest)


def _by_name(items: object) -> dict[str, Obj]:
    if not isinstance(items, list):
        return {}
    return {str(i.get("name")): i for i in items if isinstance(i, Mapping) and i.get("name")}


def _image_of(spec_image: str, status: Obj) -> tuple[ImageKey | None, str, str]:
    """(image, tag, reason when the image is None) for one container."""
    key = parse_image_id(str(status.get("imageID") or ""))
    tag = ""
    spec_ref = None
    if spec_image:
        try:
            spec_ref = parse_reference(spec_image)
            tag = spec_ref.tag
        except ReferenceError_:
            spec_ref = None
    if key is None and spec_ref is not None and spec_ref.digest:
        # the runtime reported only a local image ID, but the pod pinned the digest itself
        key = ImageKey(registry=spec_ref.registry, repository=spec_ref.repository, digest=spec_ref.digest)
    if key is not None:
        return key, tag, ""
    image_id = str(status.get("imageID") or "")
    if not image_id:
        return None, tag, "no imageID yet (container not started)"
    return None, tag, f"imageID {image_id!r} names no repository digest"


def pod_images(pod: Obj) -> PodImages:
    """Every container's image (init and ephemeral containers included), from its status ``imageID``.

    Tags come from the pod spec's ``image`` (``latest`` when it names neither tag nor digest, as
    the kubelet pulls it). Containers without a status are skipped without a problem: they have
    not been created yet.
    """
    spec = _field(pod, "spec")
    status = _field(pod, "status")
    meta = _meta(pod)
    where = f"pod {meta.get('namespace', '')}/{meta.get('name', '')}"
    images: list[ContainerImage] = []
    problems: list[str] = []
    for spec_field, status_field in _CONTAINER_FIELDS:
        specs = _by_name(spec.get(spec_field))
        for name, st in _by_name(status.get(status_field)).items():
            spec_image = str(specs.get(name, {}).get("image") or st.get("image") or "")
            key, tag, reason = _image_of(spec_image, st)
            if key is None:
                problems.append(f"{where}: container {name}: {reason}")
            else:
                images.append(ContainerImage(container=name, image=key, tag=tag))
    return PodImages(images=images, problems=problems)


def pull_secret_refs(pod: Obj) -> tuple[str, ...]:
    """The pod's ``spec.imagePullSecrets`` as "namespace/name" (a pod names secrets of its own
    namespace only), in order, without duplicates; entries without a name are ignored."""
    namespace = str(_meta(pod).get("namespace") or "default")
    entries = _field(pod, "spec").get("imagePullSecrets")
    if not isinstance(entries, list):
        return ()
    names = [str(e["name"]) for e in entries if isinstance(e, Mapping) and e.get("name")]
    return tuple(dict.fromkeys(f"{namespace}/{n}" for n in names))


def sightings(pod: Obj, workload: Workload) -> list[Sighting]:
    """The sightings of a Running pod (empty otherwise): the state the watcher keeps per pod."""
    if not is_running(pod):
        return []
    secrets = pull_secret_refs(pod)
    return [
        Sighting(image=c.image, tag=c.tag, workload=workload, container=c.container, pull_secrets=secrets)
        for c in pod_images(pod).images
    ]
