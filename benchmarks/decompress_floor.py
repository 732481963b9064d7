"""The decompression floor: inflate every layer blob of an OCI layout and throw the bytes away.

Run as a child process by ``bench_scan.py`` (``python decompress_floor.py [--engine zlib|isal]
LAYOUT_DIR``) so that its
wall time and peak RSS are measured the same way as the scanners'. No scanner can read an image
faster than it can decompress its layers, so this is the lower bound the scan is compared with.

Reads ``index.json`` -> the first manifest -> each layer blob, sniffs the compression by magic bytes
(as Assay does: media types are often wrong), streams it through zlib (or ISA-L's zlib-compatible
``isal_zlib``, which Assay uses when installed) or zstandard in 1 MiB reads
and prints one JSON line: ``{"layers": n, "compressed": bytes, "uncompressed": bytes}``.
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path
from typing import Any, BinaryIO

_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _blob(layout: Path, digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    return layout / "blobs" / algorithm / hexdigest


_zlib: Any = zlib


def _inflate_gzip(f: BinaryIO) -> int:
    """Bytes produced by a (possibly multi-member) gzip stream."""
    total = 0
    d = _zlib.decompressobj(wbits=47)
    while chunk := f.read(_CHUNK):
        total += len(d.decompress(chunk))
        # A new member starts after the end of the previous one (pigz, some registries).
        while d.eof and d.unused_data:
            rest = d.unused_data
            d = _zlib.decompressobj(wbits=47)
            total += len(d.decompress(rest))
    return total + len(d.flush())


def _inflate_zstd(f: BinaryIO) -> int:
    import zstandard  # only zstd layers need it; it is an Assay dependency

    total = 0
    reader = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
    while chunk := reader.read(_CHUNK):
        total += len(chunk)
    return total


def _read_plain(f: BinaryIO) -> int:
    total = 0
    while chunk := f.read(_CHUNK):
        total += len(chunk)
    return total


def floor(layout: Path) -> dict[str, int]:
    """Decompress every layer of the layout's first manifest; return the layer count and byte totals."""
    index = json.loads((layout / "index.json").read_bytes())
    manifest = json.loads(_blob(layout, index["manifests"][0]["digest"]).read_bytes())
    compressed = uncompressed = 0
    for layer in manifest["layers"]:
        path = _blob(layout, layer["digest"])
        compressed += path.stat().st_size
        with path.open("rb") as f:
            magic = f.read(4)
            f.seek(0)
            if magic.startswith(_GZIP_MAGIC):
                uncompressed += _inflate_gzip(f)
            elif magic == _ZSTD_MAGIC:
                uncompressed += _inflate_zstd(f)
            else:
                uncompressed += _read_plain(f)
    return {"layers": len(manifest["layers"]), "compressed": compressed, "uncompressed": uncompressed}


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--engine" and args[1] in ("zlib", "isal"):
        if args[1] == "isal":
            from isal import isal_zlib

            _zlib = isal_zlib
        args = args[2:]
    if len(args) != 1:
        sys.exit("usage: decompress_floor.py [--engine zlib|isal] OCI_LAYOUT_DIR")
    print(json.dumps(floor(Path(args[0]))))
