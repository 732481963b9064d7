"""Tiny real images for the image-access tests, built once per session with umoci and skopeo.

Layout ``layout/`` (an OCI image layout) holds:
  alpha   linux/amd64, 2 layers: base files, then a layer that deletes /hello.txt (a
          whiteout) and adds /app/data.txt; env FOO=bar, a label; history has an
          empty_layer entry (``umoci config``) after the two layer entries
  beta    linux/arm64, 1 layer with different files; its history starts with an empty_layer
  multi   an OCI index (nested in index.json): alpha for linux/amd64, beta for linux/arm64/v8
Archives made from alpha by skopeo: docker-archive, the same gzip-compressed, the same with
manifest.json pointing at the legacy ``<id>/layer.tar`` symlinks, and an oci-archive.
The registries (anonymous, Basic, Bearer token) get alpha as OCI (``fixture/alpha:latest``),
alpha from the docker-archive as Docker schema2 (``fixture/alpha:schema2``), beta, and
``fixture/multi:latest``, an index PUT by hand.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.harness.registry import (
    MODES,
    IndexEntry,
    RegistryServer,
    push_image,
    put_index,
    registry_server,
    require_tools,
)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass(frozen=True)
class Images:
    """Paths of the built fixtures."""

    root: Path
    layout: Path
    docker_archive: Path
    docker_archive_gz: Path
    docker_archive_legacy: Path
    oci_archive: Path

    def blob(self, digest: str) -> bytes:
        """A blob of the layout."""
        return (self.layout / "blobs/sha256" / digest.split(":", 1)[1]).read_bytes()

    def json_blob(self, digest: str) -> Any:
        """A JSON blob of the layout, decoded."""
        return json.loads(self.blob(digest))

    def manifest_digest(self, tag: str) -> str:
        """The digest the layout's index.json gives ``tag``."""
        index = json.loads((self.layout / "index.json").read_text())
        for entry in index["manifests"]:
            if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
                return str(entry["digest"])
        raise KeyError(tag)


def _umoci(*args: str) -> None:
    subprocess.run(["umoci", *args], check=True, capture_output=True, timeout=120)


def _write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _repack(layout: Path, tag: str, bundle: Path, created_by: str) -> None:
    _umoci(
        "repack",
        "--refresh-bundle",
        "--image",
        f"{layout}:{tag}",
        "--history.created_by",
        created_by,
        str(bundle),
    )


def _build_layout(tmp: Path) -> Path:
    # umoci 0.4.7's `insert` writes layer tars without their last padding and end blocks
    # (GNU tar: "Unexpected EOF"), so every layer here comes from unpack + repack instead.
    layout = tmp / "layout"
    _umoci("init", "--layout", str(layout))
    # alpha: two layers, the second with a whiteout
    _umoci("new", "--image", f"{layout}:alpha")
    bundle = tmp / "bundle-alpha"
    _umoci("unpack", "--image", f"{layout}:alpha", str(bundle))
    rootfs = bundle / "rootfs"
    _write_tree(
        rootfs,
        {"etc/os-release": "ID=assaytest\nVERSION_ID=1\n", "hello.txt": "hello\n", "etc/motd": "alpha\n"},
    )
    _repack(layout, "alpha", bundle, "ADD alpha-base /")
    (rootfs / "hello.txt").unlink()
    _write_tree(rootfs, {"app/data.txt": "data\n"})
    _repack(layout, "alpha", bundle, "RUN rm /hello.txt")
    _umoci(
        "config", "--image", f"{layout}:alpha", "--config.env", "FOO=bar",
        "--config.label", "org.example.name=alpha", "--history.created_by", "ENV FOO=bar",
    )  # fmt: skip
    # beta: arm64, one layer after an empty-layer history entry
    _umoci("new", "--image", f"{layout}:beta")
    _umoci("config", "--image", f"{layout}:beta", "--architecture", "arm64", "--history.created_by", "ARCH")
    bundle = tmp / "bundle-beta"
    _umoci("unpack", "--image", f"{layout}:beta", str(bundle))
    _write_tree(bundle / "rootfs", {"etc/os-release": "ID=assaytest-arm\n", "arch.txt": "arm64\n"})
    _repack(layout, "beta", bundle, "ADD beta /")
    _umoci("gc", "--layout", str(layout))
    _add_nested_index(layout)
    return layout


def _add_nested_index(layout: Path) -> None:
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text())
    by_tag = {e["annotations"]["org.opencontainers.image.ref.name"]: e for e in index["manifests"]}
    platforms = {"alpha": {"os": "linux", "architecture": "amd64"},
                 "beta": {"os": "linux", "architecture": "arm64", "variant": "v8"}}  # fmt: skip
    nested = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {k: v for k, v in by_tag[tag].items() if k != "annotations"} | {"platform": platform}
            for tag, platform in platforms.items()
        ],
    }
    data = json.dumps(nested).encode()
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs/sha256" / digest).write_bytes(data)
    index["manifests"].append(
        {
            "mediaType": OCI_INDEX,
            "digest": f"sha256:{digest}",
            "size": len(data),
            "annotations": {"org.opencontainers.image.ref.name": "multi"},
        }
    )
    index_path.write_text(json.dumps(index))


def _legacy_variant(src: Path, dest: Path) -> None:
    """Rewrite manifest.json so Layers name the ``<id>/layer.tar`` symlinks (old docker save)."""
    with tarfile.open(src) as tar:
        links = {m.linkname.rsplit("/", 1)[-1]: m.name for m in tar.getmembers() if m.issym()}
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        manifest[0]["Layers"] = [links[name] for name in manifest[0]["Layers"]]
        data = json.dumps(manifest).encode()
        with tarfile.open(dest, "w") as out:
            for member in tar.getmembers():
                if member.name == "manifest.json":
                    member.size = len(data)
                    out.addfile(member, io.BytesIO(data))
                else:
                    out.addfile(member, tar.extractfile(member) if member.isfile() else None)


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    """The fixture images (see the module docstring)."""
    require_tools("umoci", "skopeo")
    tmp = tmp_path_factory.mktemp("images")
    layout = _build_layout(tmp)
    docker = tmp / "alpha-docker.tar"
    subprocess.run(
        ["skopeo", "copy", "-q", f"oci:{layout}:alpha", f"docker-archive:{docker}:fixture/alpha:latest"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    docker_gz = tmp / "alpha-docker.tar.gz"
    with docker.open("rb") as src, gzip.open(docker_gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    legacy = tmp / "alpha-docker-legacy.tar"
    _legacy_variant(docker, legacy)
    oci_archive = tmp / "alpha-oci.tar"
    subprocess.run(
        ["skopeo", "copy", "-q", f"oci:{layout}:alpha", f"oci-archive:{oci_archive}:alpha"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return Images(tmp, layout, docker, docker_gz, legacy, oci_archive)


def populate(server: RegistryServer, images: Images) -> None:
    """Push the fixture images to a registry (see the module docstring)."""
    push_image(server, f"oci:{images.layout}:alpha", "fixture/alpha:latest")
    push_image(server, f"docker-archive:{images.docker_archive}", "fixture/alpha:schema2")
    push_image(server, f"oci:{images.layout}:beta", "fixture/beta:latest")
    push_image(server, f"oci:{images.layout}:alpha", "fixture/multi:amd64")
    push_image(server, f"oci:{images.layout}:beta", "fixture/multi:arm64")
    put_index(
        server,
        "fixture/multi",
        "latest",
        [IndexEntry("amd64", "linux/amd64"), IndexEntry("arm64", "linux/arm64/v8")],
    )


@pytest.fixture(scope="session")
def registries(
    tmp_path_factory: pytest.TempPathFactory, images: Images
) -> Iterator[dict[str, RegistryServer]]:
    """One populated registry per auth mode, for the whole session."""
    require_tools("docker-registry", "htpasswd", "skopeo")
    servers: dict[str, RegistryServer] = {}
    with ExitStack() as stack:
        for mode in MODES:
            server = stack.enter_context(registry_server(tmp_path_factory.mktemp(f"registry-{mode}"), mode))
            populate(server, images)
            servers[mode] = server
        yield servers


@pytest.fixture(params=MODES)
def registry(request: pytest.FixtureRequest, registries: dict[str, RegistryServer]) -> RegistryServer:
    """Each populated registry in turn (anonymous, basic, token)."""
    return registries[str(request.param)]


@pytest.fixture
def scratch_registry(tmp_path: Path, images: Images) -> Iterator[RegistryServer]:
    """A registry of its own (anonymous) with alpha pushed, for tests that damage storage."""
    require_tools("docker-registry", "skopeo")
    with registry_server(tmp_path / "registry", "anonymous") as server:
        push_image(server, f"oci:{images.layout}:alpha", "fixture/alpha:latest")
        yield server
