"""The hostile cases of issue 18, built on demand in a temporary directory (nothing large committed).

Each case is a function ``build(root) -> target`` writing one input under ``root`` and
returning the ``assay scan`` target for it: OCI layouts, docker- and oci-archives and
``dir:`` trees. Big inputs are sparse files or compressed streams: the whole set takes a few
MB of disk and about a minute to build. Used by ``test_hostile_scans.py`` (``assay scan`` on
each, in a subprocess) and ``benchmarks/bench_hostile.py`` (time and peak RSS per case).

Run ``python -m tests.hostile.generate DIR`` to build them all and print one target a line.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.hostile.builders import (
    Image,
    dumps,
    layer_tar,
    nested,
    sha256,
    write_docker_archive,
    write_layout,
    write_oci_archive,
)

Build = Callable[[Path], str]
CASES: dict[str, Build] = {}
MiB = 1 << 20


def case(name: str) -> Callable[[Build], Build]:
    """Register a builder under ``name``."""

    def register(build: Build) -> Build:
        CASES[name] = build
        return build

    return register


def _base_files() -> dict[str, bytes]:
    return {"etc/os-release": b"ID=debian\nVERSION_ID=12\n"}


def _image(files: dict[str, bytes], **extra: object) -> Image:
    return Image(layers=[layer_tar({**_base_files(), **files}, compress=True)], config_extra=dict(extra))


def _oci(root: Path, image: Image, index: bytes | None = None) -> str:
    return f"oci:{write_layout(root / 'layout', image, index_bytes=index)}"


# ---------------------------------------------------------------- metadata: nesting and types


@case("nested-index-json")
def _nested_index(root: Path) -> str:
    return _oci(root, _image({}), b'{"manifests":' + nested(100_000) + b"}")


@case("nested-manifest")
def _nested_manifest(root: Path) -> str:
    image = _image({})
    image.manifest_bytes = b'{"schemaVersion":2,"layers":' + nested(100_000) + b"}"
    return _oci(root, image)


@case("nested-config")
def _nested_config(root: Path) -> str:
    image = _image({})
    image.config_bytes = b'{"history":' + nested(100_000) + b"}"
    return _oci(root, image)


@case("nested-docker-manifest-json")
def _nested_docker(root: Path) -> str:
    path = write_docker_archive(root / "image.tar", _image({}), manifest_json=nested(100_000))
    return f"docker-archive:{path}"


@case("wrong-types-history")
def _history_number(root: Path) -> str:
    return _oci(root, _image({}, history=7))


@case("wrong-types-diff-ids")
def _diff_ids_number(root: Path) -> str:
    return _oci(root, _image({}, rootfs={"type": "layers", "diff_ids": 7}))


@case("wrong-types-repo-tags")
def _repo_tags_number(root: Path) -> str:
    image = _image({})
    entry = {"Config": sha256(image.config())[7:] + ".json", "RepoTags": 5, "Layers": []}
    return f"docker-archive:{write_docker_archive(root / 'image.tar', image, manifest_json=dumps([entry]))}"


@case("wrong-types-manifests")
def _manifests_number(root: Path) -> str:
    return _oci(root, _image({}), b'{"schemaVersion":2,"manifests":12}')


@case("wrong-types-size-string")
def _size_string(root: Path) -> str:
    image = _image({})
    doc = json.loads(image.manifest())
    doc["layers"][0]["size"] = str(doc["layers"][0]["size"])
    image.manifest_bytes = dumps(doc)
    return _oci(root, image)


# ---------------------------------------------------------------- names and trees


def _raw_tar(entries: Iterator[tuple[bytes, bytes]]) -> bytes:
    """A gzipped tar whose member names are raw bytes (not necessarily UTF-8)."""
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape"
    ) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


@case("non-utf8-name-in-layer")
def _bad_name_layer(root: Path) -> str:
    entries = [
        (b"etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
        (b"app/\xff\xfe-\x80.conf", b"AKIA" + b"A" * 16),
    ]
    return _oci(root, Image(layers=[_raw_tar(iter(entries))]))


@case("non-utf8-name-in-dir")
def _bad_name_dir(root: Path) -> str:
    tree = root / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc/os-release").write_text("ID=debian\nVERSION_ID=12\n")
    with open(os.path.join(os.fsencode(tree), b"bad-\xff\xfe.txt"), "wb") as f:
        f.write(b"hello\n")
    return f"dir:{tree}"


@case("dir-1500-levels")
def _deep_dir(root: Path) -> str:
    tree = root / "tree"
    tree.mkdir()
    fd = os.open(tree, os.O_RDONLY)
    try:
        for _ in range(1500):  # relative to a directory fd: the full path is far past PATH_MAX
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as f:
            f.write(b"leaf\n")
    finally:
        os.close(fd)
    return f"dir:{tree}"


# ---------------------------------------------------------------- special and sparse files


@case("index-json-dev-zero")
def _index_dev_zero(root: Path) -> str:
    target = _oci(root, _image({}))
    index = root / "layout/index.json"
    index.unlink()
    index.symlink_to("/dev/zero")
    return target


@case("index-json-sparse-1gib")
def _index_sparse(root: Path) -> str:
    target = _oci(root, _image({}))
    with (root / "layout/index.json").open("r+b") as f:
        f.truncate(1 << 30)
    return target


@case("layer-blob-fifo")
def _fifo_blob(root: Path) -> str:
    image = _image({})
    target = _oci(root, image)
    blob = root / "layout/blobs/sha256" / sha256(image.layers[0])[7:]
    blob.unlink()
    os.mkfifo(blob)
    return target


@case("dir-world-writable-6gib-sparse")
def _sparse_dir_files(root: Path) -> str:
    tree = root / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc/os-release").write_text("ID=debian\nVERSION_ID=12\n")
    for name, size, mode in (("opt/big.bin", 6 << 30, 0o666), ("usr/bin/setuid-tool", 2 << 30, 0o4755)):
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            f.truncate(size)
        path.chmod(mode)
    return f"dir:{tree}"


# ---------------------------------------------------------------- decompression


def _zeros_layer(name: str, size: int) -> bytes:
    """A gzipped layer holding one file of ``size`` zero bytes, compressed as it is generated."""
    header = tarfile.TarInfo(name)
    header.size = size
    out = io.BytesIO()
    gz = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0)
    gz.write(header.tobuf(format=tarfile.PAX_FORMAT))
    chunk = bytes(8 * MiB)
    left = size
    while left:
        gz.write(chunk[: min(left, len(chunk))])
        left -= min(left, len(chunk))
    gz.write(bytes(-size % 512) + bytes(1024))
    gz.close()
    return out.getvalue()


@case("gzip-bomb-1gib")
def _gzip_bomb(root: Path) -> str:
    bomb = _zeros_layer("zeros.bin", 1 << 30)  # ~1 MiB holding 1 GiB
    return _oci(root, Image(layers=[layer_tar(_base_files(), compress=True), bomb]))


@case("gzipped-docker-archive-200-layers")
def _many_layers(root: Path) -> str:
    layers = [layer_tar({f"layer{i}/f.txt": os.urandom(8 << 10).hex().encode()}) for i in range(200)]
    image = Image(layers=[layer_tar(_base_files()), *layers])
    return f"docker-archive:{write_docker_archive(root / 'image.tar.gz', image, gzipped=True)}"


@case("oci-archive-nested-index")
def _oci_archive_nested(root: Path) -> str:
    return f"oci-archive:{write_oci_archive(root / 'image.tar', _image({}), index_bytes=nested(50_000))}"


# ---------------------------------------------------------------- package databases


@case("pnpm-lock-yaml-aliases")
def _yaml_aliases(root: Path) -> str:
    lines = ["lockfileVersion: '6.0'", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    lines += ["packages:", "  /evil@1.0.0:", "    resolution: {integrity: *a11}"]
    return _oci(root, _image({"app/pnpm-lock.yaml": "\n".join(lines).encode() + b"\n"}))


@case("apk-db-garbage")
def _apk_garbage(root: Path) -> str:
    garbage = b"".join(b"Z:%d garbage line without a package\n" % i for i in range(2_000_000))
    return _oci(root, _image({"lib/apk/db/installed": garbage}))


@case("dpkg-status-continuations")
def _dpkg_continuations(root: Path) -> str:
    body = (
        b"Package: evil\nStatus: install ok installed\nVersion: 1\nDescription: x\n" + b" more\n" * 3_000_000
    )
    return _oci(root, _image({"var/lib/dpkg/status": body}))


@case("dpkg-lists-8x32mib")
def _dpkg_lists(root: Path) -> str:
    line = b"/usr/share/doc/evil/" + b"x" * 100 + b"\n"
    big = line * (32 * MiB // len(line))
    return _oci(root, _image({f"var/lib/dpkg/info/p{i}.list": big for i in range(8)}))


@case("rpm-sqlite-recursive-view")
def _rpm_sqlite(root: Path) -> str:
    db = root / "rpmdb.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            "SELECT x AS hnum, zeroblob(100000) AS blob FROM c"
        )
    conn.close()
    return _oci(root, _image({"var/lib/rpm/rpmdb.sqlite": db.read_bytes()}))


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


@case("jar-fan-out")
def _jar_fan_out(root: Path) -> str:
    inner = _zip({"zeros.bin": bytes(64 * MiB), "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n"})
    level = inner
    for _ in range(3):  # 16 x 16 x 16 x 64 MiB = 256 GiB if expanded without a total budget
        level = _zip({f"lib/n{i}.jar": level for i in range(16)})
    return _oci(root, _image({"app/app.jar": level}))


# ---------------------------------------------------------------- secrets


@case("secrets-private-key-of-spaces")
def _key_of_spaces(root: Path) -> str:
    block = b"-----BEGIN RSA PRIVATE KEY-----" + b" " * 200_000 + b"\n"
    env = "KEY=-----BEGIN OPENSSH PRIVATE KEY-----" + " " * 100_000
    return _oci(root, _image({"app/key.pem": block}, config={"Env": [env]}))


def build_all(root: Path, names: list[str] | None = None) -> dict[str, str]:
    """Build every case (or ``names``) under ``root/<name>``; returns name -> target."""
    out: dict[str, str] = {}
    for name in names or list(CASES):
        where = root / name
        where.mkdir(parents=True, exist_ok=True)
        out[name] = CASES[name](where)
    return out


def remove_cases(root: Path) -> None:
    """Delete what ``build_all`` wrote. ``rm -rf``: ``shutil.rmtree`` recurses, and one case is
    1,500 directories deep (past Python's recursion limit, so pytest's own clean-up would fail)."""
    subprocess.run(["rm", "-rf", "--", str(root)], check=True, timeout=300)


if __name__ == "__main__":
    for name, target in build_all(Path(sys.argv[1])).items():
        print(f"{name}\t{target}")
