"""Synthetic OCI layouts: one large layer, or many small files over several layers.

``write_big_layout`` checks that scan memory does not grow with bytes; ``write_layout`` with
``small_files`` (say 1,000,000) checks that it does not grow with the number of files either.

The layer holds a small Debian root (``/etc/os-release``, ``/var/lib/dpkg/status`` with a handful of
packages) and ``big_mb`` MiB of incompressible bytes split over a few large files under
``/opt/bigdata``. Everything is streamed: file content is generated as tarfile reads it, the tar is
gzipped and hashed on the way to disk, so writing a multi-gigabyte layer needs a few MiB of memory.
Only the standard library is used (tarfile, gzip, hashlib).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path
from typing import IO

__all__ = ["write_big_layout", "write_layout"]

_MIB = 1 << 20
# Deflate looks back 32 KiB at most, so a repeated 4 MiB random block is as incompressible as fresh
# random bytes while costing nothing to produce.
_BLOCK_SIZE = 4 * _MIB
_CREATED = "2024-01-01T00:00:00Z"

_OS_RELEASE = b"""\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""

# Real bookworm stanzas, trimmed; curl and openssl are old enough to match advisories.
_DPKG_STATUS = b"""\
Package: base-files
Status: install ok installed
Priority: required
Architecture: amd64
Version: 12.4+deb12u8
Description: Debian base system miscellaneous files

Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u9
Description: GNU C Library: Shared libraries

Package: zlib1g
Status: install ok installed
Priority: optional
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime

Package: curl
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 7.88.1-10+deb12u5
Description: command line tool for transferring data with URL syntax

Package: libssl3
Status: install ok installed
Priority: optional
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - shared libraries
"""


class _HashingWriter(io.RawIOBase):
    """Forwards writes to ``sink`` and keeps the sha256 and byte count of what went through."""

    def __init__(self, sink: IO[bytes] | io.BufferedIOBase) -> None:
        self._sink = sink
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.sha256.update(b)
        self.size += len(b)
        self._sink.write(b)
        return len(b)


class _Incompressible(io.RawIOBase):
    """``size`` bytes cycling through one random block, produced as they are read."""

    def __init__(self, size: int, block: bytes) -> None:
        self._left = size
        self._block = memoryview(block)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        out = bytearray()
        while len(out) < n:
            take = min(n - len(out), len(self._block) - self._pos)
            out += self._block[self._pos : self._pos + take]
            self._pos = (self._pos + take) % len(self._block)
        self._left -= n
        return bytes(out)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    tar.addfile(info)


def _write_blob(blobs: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _small_file(i: int) -> tuple[str, bytes]:
    """The ``i``-th small file: a few lines of text, every 50th with a URL (what content analyzers read)."""
    name = f"srv/data/d{i // 1000:05d}/f{i % 1000:03d}.txt"
    body = f"entry {i}\nowner=team-{i % 97}\n".encode()
    if i % 50 == 0:
        body += f"see https://example.com/docs/{i}\n".encode()
    return name, body


def _write_layer(
    blobs: Path, big_mb: int, files: int, small: range = range(0), base: bool = True
) -> tuple[dict[str, object], str]:
    """Stream the layer to ``blobs``; return its descriptor and the diff_id of the uncompressed tar.

    The base layer holds the Debian root and ``big_mb`` MiB over ``files`` large files; any layer may
    hold the small files numbered ``small``.
    """
    tmp = blobs / "layer.partial"
    block = os.urandom(_BLOCK_SIZE)
    total = big_mb * _MIB
    sizes = [total // files] * files if files and total else []
    if sizes:
        sizes[-1] += total - sum(sizes)
    with tmp.open("wb") as raw:
        blob = _HashingWriter(raw)
        # Level 1: the data does not compress anyway, and the point is the scan, not the build.
        with gzip.GzipFile(fileobj=blob, mode="wb", compresslevel=1, mtime=0) as gz:
            plain = _HashingWriter(gz)
            # A large stream buffer: tarfile's default (10 KiB) re-slices its buffer on every write.
            with tarfile.open(fileobj=plain, mode="w|", format=tarfile.PAX_FORMAT, bufsize=_MIB) as tar:
                tar.copybufsize = _MIB  # type: ignore[attr-defined]  # real, but not in typeshed
                if base:
                    for d in ("etc", "var", "var/lib", "var/lib/dpkg", "opt", "opt/bigdata"):
                        _add_dir(tar, d)
                    _add_bytes(tar, "etc/os-release", _OS_RELEASE)
                    _add_bytes(tar, "var/lib/dpkg/status", _DPKG_STATUS)
                for i, size in enumerate(sizes):
                    info = tarfile.TarInfo(f"opt/bigdata/part-{i}.bin")
                    info.size = size
                    info.mode = 0o644
                    tar.addfile(info, _Incompressible(size, block))
                for i in small:
                    if i % 1000 == 0:
                        _add_dir(tar, f"srv/data/d{i // 1000:05d}")
                    _add_bytes(tar, *_small_file(i))
    digest = blob.sha256.hexdigest()
    tmp.rename(blobs / digest)
    descriptor = {
        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
        "digest": f"sha256:{digest}",
        "size": blob.size,
    }
    return descriptor, f"sha256:{plain.sha256.hexdigest()}"


def write_big_layout(root: Path, big_mb: int, files: int = 4) -> Path:
    """Write an OCI image layout at ``root`` (created) with one gzip layer of ``big_mb`` MiB; return it."""
    return write_layout(root, big_mb=big_mb, big_files=files)


def write_layout(
    root: Path, *, big_mb: int = 0, big_files: int = 4, small_files: int = 0, layers: int = 1
) -> Path:
    """Write an OCI layout at ``root`` (created): the base layer with ``big_mb`` MiB in ``big_files``
    files, and ``small_files`` small text files spread evenly over ``layers`` layers; return it."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    per = -(-small_files // layers) if small_files else 0
    written = [
        _write_layer(
            blobs, big_mb if n == 0 else 0, big_files, range(n * per, min(small_files, (n + 1) * per)), n == 0
        )
        for n in range(layers)
    ]
    what = f"{big_mb} MiB in {big_files} files, {small_files} small files, {layers} layers + dpkg status"
    config = {
        "created": _CREATED,
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id for _, diff_id in written]},
        "history": [{"created": _CREATED, "created_by": f"benchmarks/synthetic_image.py: {what}"}] * layers,
    }
    config_desc = {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        **_write_blob(blobs, json.dumps(config, sort_keys=True).encode()),
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": [layer for layer, _ in written],
    }
    manifest_desc = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        **_write_blob(blobs, json.dumps(manifest, sort_keys=True).encode()),
        "annotations": {"org.opencontainers.image.ref.name": "latest"},
    }
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [manifest_desc],
    }
    (root / "index.json").write_text(json.dumps(index, sort_keys=True))
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    return root


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="write a synthetic OCI layout")
    parser.add_argument("root", type=Path)
    parser.add_argument("--big-mb", type=int, default=0)
    parser.add_argument("--big-files", type=int, default=4)
    parser.add_argument("--small-files", type=int, default=0)
    parser.add_argument("--layers", type=int, default=1)
    a = parser.parse_args()
    write_layout(a.root, big_mb=a.big_mb, big_files=a.big_files, small_files=a.small_files, layers=a.layers)
    print(a.root)
