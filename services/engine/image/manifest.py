"""Manifests, indexes and configs: media types, platform choice and the ``ImageInfo`` they describe.

Shared by every source. Pure functions of decoded JSON; the sources do the reading.
A manifest without a top-level ``mediaType`` is valid (umoci writes them): its kind is
sniffed from its keys (``manifests`` for an index, ``layers`` for an image manifest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from schemas.records import ImageInfo, LayerInfo
from services.common.errors import ImageError

__all__ = [
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "MANIFEST_ACCEPT",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Platform",
    "build_info",
    "choose_descriptor",
    "decode_json",
    "descriptor_tags",
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


def decode_json(data: bytes, what: str) -> dict[str, Any]:
    """Decode a JSON object, raising ``ImageError`` that names ``what`` if it is not one."""
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise ImageError(f"{what}: invalid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ImageError(f"{what}: expected a JSON object")
    return doc


def manifest_kind(doc: dict[str, Any], media_type: str, what: str) -> str:
    """``"index"`` or ``"manifest"``, from the media type given, the document's own, or its keys."""
    declared = media_type or str(doc.get("mediaType") or "")
    if declared in _INDEX_TYPES:
        return "index"
    if declared in _MANIFEST_TYPES:
        return "manifest"
    if declared in _DOCKER_SCHEMA1 or doc.get("schemaVersion") == 1:
        raise ImageError(f"{what}: Docker schema 1 manifests are not supported")
    if isinstance(doc.get("manifests"), list):
        return "index"
    if isinstance(doc.get("layers"), list):
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
    def from_json(cls, doc: Any) -> Platform | None:
        """The platform of a descriptor or config object, if it names one."""
        if not isinstance(doc, dict) or not doc.get("os") or not doc.get("architecture"):
            return None
        return cls(str(doc["os"]), str(doc["architecture"]), str(doc.get("variant") or ""))

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


def choose_descriptor(index: dict[str, Any], platform: Platform, what: str) -> dict[str, Any]:
    """Pick the manifest descriptor for ``platform`` from an index or manifest list.

    Entries without a platform are taken only when they are the sole entry; an unknown
    platform (attestations) is never taken. Raises ``ImageError`` listing what is there.
    """
    entries = [d for d in index.get("manifests") or [] if isinstance(d, dict) and d.get("digest")]
    if not entries:
        raise ImageError(f"{what}: the index lists no manifests")
    best: tuple[int, dict[str, Any]] | None = None
    seen: list[str] = []
    for entry in entries:
        candidate = Platform.from_json(entry.get("platform"))
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


def descriptor_tags(descriptor: dict[str, Any]) -> list[str]:
    """The names an index entry is known by (OCI ``ref.name``, containerd's image name)."""
    annotations = descriptor.get("annotations") or {}
    if not isinstance(annotations, dict):
        return []
    return [str(annotations[k]) for k in (_REF_NAME, _CONTAINERD_NAME) if annotations.get(k)]


def _created_by(config: dict[str, Any]) -> list[str]:
    history = config.get("history") or []
    out: list[str] = []
    for entry in history:
        if isinstance(entry, dict) and not entry.get("empty_layer"):
            out.append(str(entry.get("created_by") or ""))
    return out


def _str_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def build_info(
    *,
    ref: str,
    digest: str,
    manifest: dict[str, Any],
    config_digest: str,
    config: dict[str, Any],
    fallback_platform: Platform | None = None,
) -> ImageInfo:
    """The ``ImageInfo`` of an image manifest and its config, layers bottom first.

    ``created_by`` comes from the config history with ``empty_layer`` entries skipped;
    ``diff_id`` from ``rootfs.diff_ids``. A layer count that disagrees with the diff_ids
    is an ``ImageError``.
    """
    layers_doc = manifest.get("layers")
    if not isinstance(layers_doc, list):
        raise ImageError(f"{ref}: manifest has no layers list")
    rootfs = config.get("rootfs") if isinstance(config.get("rootfs"), dict) else {}
    diff_ids = _str_list((rootfs or {}).get("diff_ids"))
    if len(diff_ids) != len(layers_doc):
        raise ImageError(
            f"{ref}: manifest lists {len(layers_doc)} layers but the config has {len(diff_ids)} diff_ids"
        )
    created = _created_by(config)
    layers: list[LayerInfo] = []
    for i, layer in enumerate(layers_doc):
        if not isinstance(layer, dict) or not isinstance(layer.get("digest"), str):
            raise ImageError(f"{ref}: manifest layer {i + 1} has no digest")
        layers.append(
            LayerInfo(
                digest=layer["digest"],
                diff_id=diff_ids[i],
                media_type=str(layer.get("mediaType") or ""),
                size=int(layer.get("size") or 0),
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
    config: dict[str, Any],
    layers: Sequence[LayerInfo],
    fallback_platform: Platform | None = None,
) -> ImageInfo:
    """An ``ImageInfo`` from already-built layers plus the config's platform, env and labels."""
    platform = Platform.from_json(config) or fallback_platform
    inner = config.get("config") if isinstance(config.get("config"), dict) else {}
    labels = (inner or {}).get("Labels")
    return ImageInfo(
        ref=ref,
        digest=digest,
        config_digest=config_digest,
        platform=str(platform) if platform else "",
        layers=list(layers),
        env=_str_list((inner or {}).get("Env")),
        labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
    )
