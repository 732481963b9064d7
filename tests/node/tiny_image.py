"""A small docker-archive with content of its own, built in the test (no binary committed).

``ctr images import`` stores each layer as the archive's ``layer.tar`` bytes, so the layer's
digest in containerd's content store is the sha256 of those bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TinyImage", "tiny_docker_archive"]


@dataclass(frozen=True)
class TinyImage:
    """The archive and the digests containerd will store its config and layer under."""

    path: Path
    config_digest: str
    layer_digest: str


def _tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def tiny_docker_archive(path: Path, repo_tag: str, marker: str) -> TinyImage:
    """A one-layer linux/amd64 image whose layer holds ``marker`` (so its digests are its own)."""
    layer = _tar({"etc/os-release": b'ID=tiny\nVERSION_ID="1"\n', "marker.txt": marker.encode()})
    layer_hex = hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_hex}"]},
            "history": [{"created_by": "tiny_image.py"}],
        }
    ).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    manifest = [
        {"Config": f"{config_hex}.json", "RepoTags": [repo_tag], "Layers": [f"{layer_hex}/layer.tar"]}
    ]
    path.write_bytes(
        _tar(
            {
                f"{config_hex}.json": config,
                f"{layer_hex}/layer.tar": layer,
                "manifest.json": json.dumps(manifest).encode(),
            }
        )
    )
    return TinyImage(path, f"sha256:{config_hex}", f"sha256:{layer_hex}")
