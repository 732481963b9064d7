"""Small builders for image-shaped inputs: OCI layouts, docker- and oci-archives, layer tars.

Used by the hostile-case generator (``tests/hostile/generate.py``) and the image-access tests.
Everything is written with the standard library, so a case is a few KB on disk unless the
case itself is about size (and then sparse files or streams are used).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_GZIP = LAYER_TAR + "+gzip"


def sha256(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def dumps(doc: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(doc, separators=(",", ":")).encode()


def nested(depth: int) -> bytes:
    """JSON text nested ``depth`` arrays deep: a few KB that once raised ``RecursionError``."""
    return b"[" * depth + b"]" * depth


def layer_tar(files: Mapping[str, bytes], *, compress: bool = False) -> bytes:
    """A layer blob holding ``files`` (regular files, mode 0644), gzipped when ``compress``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw


def diff_id(blob: bytes) -> str:
    """The diff_id of a layer blob (the digest of its uncompressed tar)."""
    return sha256(gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob)


@dataclass
class Image:
    """A one-image description the writers below turn into a layout or an archive.

    ``layers`` are blobs as stored. Any of ``config``/``manifest`` may be replaced by raw
    bytes (``config_bytes``/``manifest_bytes``) to build a malformed image.
    """

    layers: Sequence[bytes] = ()
    config_extra: dict[str, Any] = field(default_factory=dict)
    config_bytes: bytes | None = None
    manifest_bytes: bytes | None = None

    def config(self) -> bytes:
        """The config: linux/amd64, diff_ids and history for the layers, then ``config_extra``."""
        if self.config_bytes is not None:
            return self.config_bytes
        doc: dict[str, Any] = {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id(b) for b in self.layers]},
            "history": [{"created_by": f"layer {i}"} for i in range(len(self.layers))],
        }
        doc.update(self.config_extra)
        return dumps(doc)

    def layer_descriptors(self) -> list[dict[str, Any]]:
        """The manifest's layer descriptors."""
        return [
            {
                "mediaType": LAYER_GZIP if b[:2] == b"\x1f\x8b" else LAYER_TAR,
                "digest": sha256(b),
                "size": len(b),
            }
            for b in self.layers
        ]

    def manifest(self) -> bytes:
        """The OCI image manifest."""
        if self.manifest_bytes is not None:
            return self.manifest_bytes
        config = self.config()
        return dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
                "layers": self.layer_descriptors(),
            }
        )


def _index(manifest: bytes, tag: str) -> bytes:
    entry = {
        "mediaType": OCI_MANIFEST,
        "digest": sha256(manifest),
        "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }
    return dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]})


def write_blob(root: Path, data: bytes) -> Path:
    """Store ``data`` under ``root/blobs/sha256/``; returns its path."""
    path = root / "blobs" / "sha256" / sha256(data).split(":", 1)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_layout(root: Path, image: Image, *, tag: str = "latest", index_bytes: bytes | None = None) -> Path:
    """An OCI image layout at ``root`` holding ``image`` (``index_bytes`` replaces index.json)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    manifest = image.manifest()
    for blob in (*image.layers, image.config(), manifest):
        write_blob(root, blob)
    (root / "index.json").write_bytes(index_bytes if index_bytes is not None else _index(manifest, tag))
    return root


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def write_oci_archive(
    path: Path, image: Image, *, tag: str = "latest", index_bytes: bytes | None = None
) -> Path:
    """A tar of an OCI layout (skopeo's oci-archive) holding ``image``."""
    manifest = image.manifest()
    with tarfile.open(path, "w") as tar:
        _add(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add(tar, "index.json", index_bytes if index_bytes is not None else _index(manifest, tag))
        for blob in (*image.layers, image.config(), manifest):
            _add(tar, "blobs/sha256/" + sha256(blob).split(":", 1)[1], blob)
    return path


def write_docker_archive(
    path: Path,
    image: Image,
    *,
    repo_tags: Sequence[str] = ("example/app:1",),
    manifest_json: bytes | None = None,
    gzipped: bool = False,
) -> Path:
    """A ``docker save`` tarball holding ``image`` (``manifest_json`` replaces manifest.json)."""
    config = image.config()
    config_name = sha256(config).split(":", 1)[1] + ".json"
    layer_names = [sha256(b).split(":", 1)[1] + "/layer.tar" for b in image.layers]
    entries = [{"Config": config_name, "RepoTags": list(repo_tags), "Layers": layer_names}]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _add(tar, "manifest.json", manifest_json if manifest_json is not None else dumps(entries))
        _add(tar, config_name, config)
        for name, blob in zip(layer_names, image.layers, strict=True):
            _add(tar, name, blob)
    data = buf.getvalue()
    path.write_bytes(gzip.compress(data, compresslevel=1, mtime=0) if gzipped else data)
    return path
