"""Manifests, indexes and configs: media types, platform choice and the ``ImageInfo`` they describe.

Shared by every source. Pure functions of typed documents (``documents``); the sources do the reading.
A manifest without a top-level ``mediaType`` is valid (umoci writes them): its kind is
sniffed from its keys (``manifests`` for an index, ``layers`` for an image manifest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schemas.records import ImageInfo, LayerInfo
from services.common.errors import ImageError
from services.oci.documents import ConfigDoc, Descriptor, ManifestDoc, PlatformDoc

__all__ = [
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "MANIFEST_ACCEPT",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Platform",
    "build_info",
    "choose_descriptor",
    "created_by",
    "descriptor_tags",
    "diff_ids",
    "info_from_config",
    "manifest_kind",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
_INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
_MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
"""The ``Accept`` header for manifest requests: every kind Assay can read."""

_REF_NAME = "org.opencontainers.image.ref.name"
_CONTAINERD_NAME = "io.containerd.image.name"


def manifest_kind(doc: ManifestDoc, media_type: str, what: str) -> str:
    """``"index"`` or ``"manifest"``, from the media type given, the document's own, or its keys."""
    declared = media_type or doc.media_type
    if declared in _INDEX_TYPES:
        return "index"
    if declared in _MANIFEST_TYPES:
        return "manifest"
    if declared in _DOCKER_SCHEMA1 or doc.schema_version == 1:
        raise ImageError(f"{what}: Docker schema 1 manifests are not supported")
    if doc.manifests is not None:
        return "index"
    if doc.layers is not None:
        return "manifest"
    raise ImageError(f"{what}: not an image manifest or index (media type {declared or 'absent'!r})")


@dataclass(frozen=True)
class Platform:
    """An ``os/architecture[/variant]`` triple, as written on the command line."""

    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``linux/amd64`` or ``linux/arm64/v8``; raises ``ImageError`` on other shapes."""
        parts = text.strip().lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ImageError(f"invalid platform {text!r}: expected os/arch[/variant]")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "")

    @classmethod
    def from_doc(cls, doc: PlatformDoc | ConfigDoc | None) -> Platform | None:
        """The platform of a descriptor or config, if it names one."""
        if doc is None or not doc.os or not doc.architecture:
            return None
        return cls(doc.os, doc.architecture, doc.variant or "")

    def __str__(self) -> str:
        return f"{self.os}/{self.architecture}" + (f"/{self.variant}" if self.variant else "")

    def score(self, candidate: Platform) -> int:
        """How well ``candidate`` serves a request for ``self``: 0 not at all, higher is better."""
        if candidate.os != self.os or candidate.architecture != self.architecture:
            return 0
        if candidate.variant == self.variant:
            return 3
        # arm64 images usually omit the only variant there is (v8), and the reverse
        if self.architecture == "arm64" and {candidate.variant, self.variant} <= {"", "v8"}:
            return 2
        return 1 if not self.variant else 0


def choose_descriptor(manifests: Sequence[Descriptor], platform: Platform, what: str) -> Descriptor:
    """Pick the manifest descriptor for ``platform`` from an index's or manifest list's entries.

    Entries without a platform are taken only when they are the sole entry; an unknown
    platform (attestations) is never taken. Raises ``ImageError`` listing what is there.
    """
    entries = [d for d in manifests if d.digest]
    if not entries:
        raise ImageError(f"{what}: the index lists no manifests")
    best: tuple[int, Descriptor] | None = None
    seen: list[str] = []
    for entry in entries:
        candidate = Platform.from_doc(entry.platform)
        if candidate is None:
            continue
        seen.append(str(candidate))
        score = platform.score(candidate)
        if score and (best is None or score > best[0]):
            best = (score, entry)
    if best is not None:
        return best[1]
    if len(entries) == 1 and not seen:
        return entries[0]
    raise ImageError(f"{what}: no manifest for platform {platform} (available: {', '.join(seen) or 'none'})")


def descriptor_tags(descriptor: Descriptor) -> list[str]:
    """The names an index entry is known by (OCI ``ref.name``, containerd's image name)."""
    annotations = descriptor.annotations or {}
    return [annotations[k] for k in (_REF_NAME, _CONTAINERD_NAME) if annotations.get(k)]


def created_by(config: ConfigDoc) -> list[str]:
    """The ``created_by`` of each history entry that made a layer, bottom first."""
    return [h.created_by or "" for h in config.history or [] if not h.empty_layer]


def diff_ids(config: ConfigDoc) -> list[str]:
    """The config's ``rootfs.diff_ids``."""
    return list(config.rootfs.diff_ids or []) if config.rootfs else []


def build_info(
    *,
    ref: str,
    digest: str,
    manifest: ManifestDoc,
    config_digest: str,
    config: ConfigDoc,
    fallback_platform: Platform | None = None,
) -> ImageInfo:
    """The ``ImageInfo`` of an image manifest and its config, layers bottom first.

    ``created_by`` comes from the config history with ``empty_layer`` entries skipped;
    ``diff_id`` from ``rootfs.diff_ids``. A layer count that disagrees with the diff_ids
    is an ``ImageError``.
    """
    if manifest.layers is None:
        raise ImageError(f"{ref}: manifest has no layers list")
    ids = diff_ids(config)
    if len(ids) != len(manifest.layers):
        raise ImageError(
            f"{ref}: manifest lists {len(manifest.layers)} layers but the config has {len(ids)} diff_ids"
        )
    created = created_by(config)
    layers: list[LayerInfo] = []
    for i, layer in enumerate(manifest.layers):
        if not layer.digest:
            raise ImageError(f"{ref}: manifest layer {i + 1} has no digest")
        if layer.size < 0:
            raise ImageError(f"{ref}: manifest layer {i + 1} has a negative size")
        layers.append(
            LayerInfo(
                digest=layer.digest,
                diff_id=ids[i],
                media_type=layer.media_type,
                size=layer.size,
                created_by=created[i] if i < len(created) else "",
            )
        )
    return info_from_config(
        ref=ref,
        digest=digest,
        config_digest=config_digest,
        config=config,
        layers=layers,
        fallback_platform=fallback_platform,
    )


def info_from_config(
    *,
    ref: str,
    digest: str,
    config_digest: str,
    config: ConfigDoc,
    layers: Sequence[LayerInfo],
    fallback_platform: Platform | None = None,
) -> ImageInfo:
    """An ``ImageInfo`` from already-built layers plus the config's platform, env and labels."""
    platform = Platform.from_doc(config) or fallback_platform
    inner = config.config
    return ImageInfo(
        ref=ref,
        digest=digest,
        config_digest=config_digest,
        platform=str(platform) if platform else "",
        layers=list(layers),
        env=list(inner.env or []) if inner else [],
        labels=dict(inner.labels or {}) if inner else {},
    )
