"""Typed decoding of the JSON documents an image is made of: indexes, manifests, configs, ``manifest.json``.

Every document comes from whoever built the image, so none is trusted. Each is decoded into a
msgspec Struct that names only the fields Assay reads: a wrong type (``"size": "12"``,
``"history": 3``) is an ``ImageError`` naming the document and the JSON path, never a
``TypeError`` later. Nesting deeper than ``MAX_JSON_DEPTH`` is refused before decoding, so a
few KB of ``[[[[…`` cannot raise ``RecursionError`` inside the decoder.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from services.common.errors import ImageError

__all__ = [
    "MAX_JSON_DEPTH",
    "ArchiveEntry",
    "ConfigDoc",
    "Descriptor",
    "ManifestDoc",
    "PlatformDoc",
    "decode_config",
    "decode_document",
    "json_too_deep",
]

MAX_JSON_DEPTH = 32
"""Deepest nesting accepted in image metadata; real manifests and configs stay under 8."""

T = TypeVar("T")

# JSON strings (escapes included) are dropped first, so brackets inside them do not count
_STRING_RE = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_EMPTY_PAIR_RE = re.compile(rb"\[\]|\{\}")


def json_too_deep(data: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """True when ``data`` nests arrays/objects more than ``max_depth`` deep.

    Linear passes in C: strings are removed, everything but brackets is deleted, then each
    pass removes the innermost empty pairs (one level); a run of ``max_depth + 1`` openers ends
    it early. Unbalanced input answers False and is left for the decoder to reject.
    """
    run = re.compile(rb"[\[{]{%d}" % (max_depth + 1))
    skeleton = _STRING_RE.sub(b"", data).translate(None, _NOT_BRACKET)
    for _ in range(max_depth):
        if not skeleton:
            return False
        if run.search(skeleton):
            return True
        skeleton, removed = _EMPTY_PAIR_RE.subn(b"", skeleton)
        if not removed:
            return False
    return bool(skeleton)


class PlatformDoc(msgspec.Struct, frozen=True, kw_only=True):
    """A descriptor's or config's platform fields."""

    os: str = ""
    architecture: str = ""
    variant: str | None = None


class Descriptor(msgspec.Struct, frozen=True, kw_only=True, rename={"media_type": "mediaType"}):
    """An OCI content descriptor (an index entry, a manifest's config or layer)."""

    media_type: str = ""
    digest: str = ""
    size: int = 0
    platform: PlatformDoc | None = None
    annotations: dict[str, str] | None = None


class ManifestDoc(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    rename={"media_type": "mediaType", "schema_version": "schemaVersion"},
):
    """An image manifest or an index (manifest list): which one is decided by ``manifest.manifest_kind``."""

    schema_version: int | None = None
    media_type: str = ""
    manifests: list[Descriptor] | None = None
    config: Descriptor | None = None
    layers: list[Descriptor] | None = None


class HistoryDoc(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of a config's ``history``."""

    created_by: str | None = None
    empty_layer: bool | None = None


class RootFSDoc(msgspec.Struct, frozen=True, kw_only=True):
    """A config's ``rootfs``."""

    type: str = ""
    diff_ids: list[str] | None = None


class ContainerConfigDoc(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    """The parts of a config's ``config`` Assay reports: ``Env`` and ``Labels``."""

    env: list[str] | None = None
    labels: dict[str, str] | None = None


class ConfigDoc(msgspec.Struct, frozen=True, kw_only=True):
    """An image config (OCI or Docker): platform, env, labels, diff_ids and history."""

    os: str = ""
    architecture: str = ""
    variant: str | None = None
    config: ContainerConfigDoc | None = None
    rootfs: RootFSDoc | None = None
    history: list[HistoryDoc] | None = None


class ArchiveEntry(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    """One image of a docker archive's ``manifest.json``."""

    config: str
    repo_tags: list[str] | None = None
    layers: list[str]


def decode_document(data: bytes, kind: type[T], what: str) -> T:
    """Decode ``data`` as ``kind``; ``ImageError`` naming ``what`` for bad JSON, shape or depth."""
    if json_too_deep(data):
        raise ImageError(f"{what}: JSON nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.ValidationError as exc:
        raise ImageError(f"{what}: unexpected JSON: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ImageError(f"{what}: invalid JSON: {exc}") from exc
    except RecursionError as exc:  # only if MAX_JSON_DEPTH is raised past the interpreter's limit
        raise ImageError(f"{what}: JSON nested too deeply") from exc


def decode_config(data: bytes, what: str) -> tuple[ConfigDoc, dict[str, Any]]:
    """A config, typed (what Assay reads) and whole (what content analyzers are shown)."""
    typed = decode_document(data, ConfigDoc, what)
    whole = decode_document(data, dict[str, Any], what)
    return typed, whole
