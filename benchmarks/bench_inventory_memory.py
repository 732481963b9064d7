"""Peak memory and time of ``assay scan`` on images full of Java archives and on one with a huge Go binary.

The Java and Go catalogers read their files as spooled streams (``FileRequest(spool=True)``), so a
200 MB jar or a 300 MB binary should cost the scan no more memory than a small one. This script
builds three OCI layouts in a temporary directory and scans each with ``assay scan`` in a child
process, measuring wall time and peak RSS the way ``bench_scan.py`` does (GNU time ``%M``):

* ``base``: the same root as the others (``/etc/os-release``, a dpkg status) and nothing else: the
  memory baseline of a scan that catalogues almost nothing;
* ``jars``: ``--jars`` archives under ``/opt/app/lib``: small jars (manifest, pom.properties, a few
  class-sized entries), Spring-Boot-style fat jars with ten stored jars under ``BOOT-INF/lib``, and
  ``--huge`` archives of ``--huge-mb`` MiB (a stored random entry, and a nested stored jar over the
  4 MiB in-memory spool size, so nested reads go through a temporary file too);
* ``go``: a real Go binary (tests/engine/catalogers/golang/testdata) padded with ``--go-mb`` MiB of
  random bytes after its last section, beside 20 small non-Go executables (the Rust binary with a
  cargo-auditable section from tests/engine/catalogers/rust/testdata).

Each layout is also run through ``decompress_floor.py`` (inflate the layers, nothing else). The
figures are printed, never asserted: see benchmarks/README.md.

    .venv/bin/python benchmarks/bench_inventory_memory.py [--repeat 3] [--jars 200] [--huge 4]
        [--huge-mb 60] [--go-mb 300] [--json out.json]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import lzma
import os
import shlex
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from bench_scan import (
    _FLOOR,
    BenchError,
    Measurement,
    find_assay,
    measure,
    print_table,
    summarise_assay,
    summarise_floor,
    warm_cache,
)

_REPO = Path(__file__).resolve().parent.parent
_GO_FIXTURE = _REPO / "tests/engine/catalogers/golang/testdata/gobin/gofixture-linux-amd64.xz"
_NON_GO = _REPO / "tests/engine/catalogers/rust/testdata/auditable/hello-auditable.xz"
_MIB = 1 << 20
_BLOCK = os.urandom(4 * _MIB)  # deflate looks back 32 KiB: a repeated 4 MiB block does not compress
_OS_RELEASE = b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
_STATUS = b"Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u8\n"


def _random(size: int) -> bytes:
    reps, rest = divmod(size, len(_BLOCK))
    return _BLOCK * reps + _BLOCK[:rest]


def _jar(group: str, artifact: str, version: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A jar as Maven writes one: manifest, pom.properties, class-sized deflated entries, ``extra`` stored."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "META-INF/MANIFEST.MF",
            f"Manifest-Version: 1.0\r\nImplementation-Title: {artifact}\r\n"
            f"Implementation-Version: {version}\r\n\r\n",
        )
        zf.writestr(
            f"META-INF/maven/{group}/{artifact}/pom.properties",
            f"groupId={group}\nartifactId={artifact}\nversion={version}\n",
        )
        for n in range(8):
            zf.writestr(f"{group.replace('.', '/')}/{artifact}/C{n}.class", os.urandom(1500) + bytes(1500))
        for name, data in (extra or {}).items():
            zf.writestr(name, data, zipfile.ZIP_STORED)
    return buf.getvalue()


def _jar_files(count: int, huge: int, huge_mb: int) -> Iterator[tuple[str, bytes]]:
    """(path, content) of every archive of the ``jars`` image, produced one at a time."""
    fat = max(1, count // 10)
    for n in range(count - fat - huge):
        yield f"opt/app/lib/lib{n}-1.{n}.0.jar", _jar("org.example.libs", f"lib{n}", f"1.{n}.0")
    for n in range(fat):
        nested = {
            f"BOOT-INF/lib/dep{n}-{k}-2.{k}.jar": _jar("org.example.deps", f"dep{n}-{k}", f"2.{k}")
            for k in range(10)
        }
        yield f"opt/app/boot/service{n}-0.{n}.jar", _jar("org.example.apps", f"service{n}", f"0.{n}", nested)
    for n in range(huge):
        inner = _jar("org.example.big", f"inner{n}", "5.0", {"data/blob.bin": _random(5 * _MIB)})
        extra = {"data/payload.bin": _random(huge_mb * _MIB - len(inner)), f"lib/inner{n}-5.0.jar": inner}
        yield f"opt/app/huge/huge{n}-9.{n}.war", _jar("org.example.big", f"huge{n}", f"9.{n}", extra)


def _go_files(go_mb: int) -> Iterator[tuple[str, bytes, int]]:
    """(path, content, mode) of the ``go`` image: one padded real Go binary and small non-Go ELF files."""
    go = lzma.decompress(_GO_FIXTURE.read_bytes())
    yield "opt/goapp/huge-goapp", go + _random(go_mb * _MIB), 0o755
    other = lzma.decompress(_NON_GO.read_bytes())
    for n in range(20):
        yield f"usr/local/bin/tool{n}", other, 0o755


class _Hashing(io.RawIOBase):
    def __init__(self, sink: IO[bytes]) -> None:
        self.sink, self.sha256, self.size = sink, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.sha256.update(b)
        self.size += len(b)
        self.sink.write(b)
        return len(b)


def _add(tar: tarfile.TarFile, path: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(path)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def _blob(blobs: Path, data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def write_layout(root: Path, files: Iterator[tuple[str, bytes, int]]) -> int:
    """An OCI layout with one gzip layer: the base root plus ``files``; returns the uncompressed bytes."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    partial = blobs / "layer.partial"
    with partial.open("wb") as raw:
        blob = _Hashing(raw)
        with gzip.GzipFile(fileobj=blob, mode="wb", compresslevel=1, mtime=0) as gz:
            plain = _Hashing(gz)  # type: ignore[arg-type]
            with tarfile.open(fileobj=plain, mode="w|", format=tarfile.PAX_FORMAT, bufsize=_MIB) as tar:
                _add(tar, "etc/os-release", _OS_RELEASE)
                _add(tar, "var/lib/dpkg/status", _STATUS)
                for path, data, mode in files:
                    _add(tar, path, data, mode)
    partial.rename(blobs / blob.sha256.hexdigest())
    layer = {
        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
        "digest": f"sha256:{blob.sha256.hexdigest()}",
        "size": blob.size,
    }
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{plain.sha256.hexdigest()}"]},
        "history": [{"created_by": "benchmarks/bench_inventory_memory.py"}],
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            **_blob(blobs, json.dumps(config).encode()),
        },
        "layers": [layer],
    }
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **_blob(blobs, json.dumps(manifest).encode()),
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(index))
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    return plain.size


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is shown")
    p.add_argument("--jars", type=int, default=200, help="archives in the jars image")
    p.add_argument("--huge", type=int, default=4, help="how many of them are huge WARs")
    p.add_argument("--huge-mb", type=int, default=60, help="size of each huge WAR, MiB")
    p.add_argument("--go-mb", type=int, default=300, help="padding added to the Go binary, MiB (at most 500)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if min(args.repeat, args.jars, args.huge_mb, args.go_mb) < 1 or args.huge < 0 or args.huge >= args.jars:
        p.error("sizes and counts must be positive, --huge below --jars")
    if args.go_mb > 500:
        p.error("--go-mb above 500: the Go cataloger skips binaries over 512 MiB, so nothing would be read")
    return args


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    assay, python = find_assay(), sys.executable
    env = {k: v for k, v in os.environ.items() if k not in ("ASSAY_DB_PATH", "ASSAY_CONFIG")}
    env["ASSAY_DB_PATH"] = str(work / "no-db.sqlite")  # inventory only: no advisory matching
    images = {
        "base": iter(()),
        "jars": ((p, d, 0o644) for p, d in _jar_files(args.jars, args.huge, args.huge_mb)),
        "go": _go_files(args.go_mb),
    }
    sizes: dict[str, int] = {}
    for name, files in images.items():
        start = time.perf_counter()
        sizes[name] = write_layout(work / name, files)
        took = time.perf_counter() - start
        print(f"image {name}: {sizes[name] / _MIB:.0f} MiB uncompressed, written in {took:.1f} s")
    warm_cache([work / name for name in images])
    done: dict[str, Measurement] = {}
    for name in images:
        layout = str(work / name)
        plan = [
            (
                Measurement(f"floor_{name}", f"decompress floor ({name})", [python, str(_FLOOR), layout]),
                summarise_floor,
            ),
            (
                Measurement(
                    f"assay_{name}", f"assay scan ({name})", [assay, "scan", f"oci:{layout}", "-f", "json"]
                ),
                summarise_assay,
            ),
        ]
        for m, summarise in plan:
            done[m.key] = measure(m, env, work, args.repeat, summarise)
    base = done["assay_base"].rss_mib
    ratios = {
        "assay peak RSS jars/base": done["assay_jars"].rss_mib / base,
        "assay peak RSS go/base": done["assay_go"].rss_mib / base,
        "assay/decompress-floor wall (jars)": done["assay_jars"].wall / done["floor_jars"].wall,
        "assay/decompress-floor wall (go)": done["assay_go"].wall / done["floor_go"].wall,
    }
    print_table(list(done.values()), ratios)
    return {
        "command": shlex.join([sys.executable, *sys.argv]),
        "args": {k: str(v) for k, v in vars(args).items()},
        "uncompressed_bytes": sizes,
        "measurements": {k: m.as_json() for k, m in done.items()},
        "ratios": {k: round(v, 3) for k, v in ratios.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="assay-bench-inventory-") as tmp:
            result = run(args, Path(tmp))
    except BenchError as exc:
        print(f"bench_inventory_memory: {exc}", file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nJSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
