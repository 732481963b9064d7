"""Local sources: OCI layout, oci-archive, docker-archive and dir:, on images umoci and skopeo built."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from schemas.records import ImageInfo
from services.common.errors import ImageError, LayerError, ReferenceError_
from services.engine.image.blobio import CHUNK_SIZE
from services.engine.image.directory import DirectorySource
from services.engine.image.docker_archive import DockerArchiveSource
from services.engine.image.interface import OpenedImage
from services.engine.image.oci_archive import OCIArchiveSource
from services.engine.image.oci_layout import OCILayoutSource
from services.engine.image.registry_source import RegistrySource
from services.engine.image.targets import parse_target
from tests.engine.image.conftest import Images


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def read_layers(image: OpenedImage) -> list[bytes]:
    """Every layer blob, checking chunk sizes and the declared digest and size."""
    out = []
    for layer in image.info.layers:
        chunks = [chunk async for chunk in image.blob(layer)]
        assert all(0 < len(c) <= CHUNK_SIZE for c in chunks)
        data = b"".join(chunks)
        assert sha256(data) == layer.digest
        assert len(data) == layer.size
        out.append(data)
    return out


def tar_names(blob: bytes) -> list[str]:
    raw = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        return tar.getnames()


def assert_alpha(info: ImageInfo, images: Images, *, ref: str) -> None:
    """What every source must report for alpha (layer digests vary by format)."""
    config_digest = images.json_blob(images.manifest_digest("alpha"))["config"]["digest"]
    config = images.json_blob(config_digest)
    assert info.ref == ref
    assert info.platform == "linux/amd64"
    assert [layer.diff_id for layer in info.layers] == config["rootfs"]["diff_ids"]
    # the history ends with an empty_layer entry from `umoci config`: skipped
    assert [layer.created_by for layer in info.layers] == ["ADD alpha-base /", "RUN rm /hello.txt"]
    assert "FOO=bar" in info.env
    assert info.labels == {"org.example.name": "alpha"}


async def test_oci_layout_reads_manifest_config_and_layers(images: Images) -> None:
    target = f"oci:{images.layout}:alpha"
    image = await parse_target(target, registries=[]).open()
    async with image:
        manifest_digest = images.manifest_digest("alpha")
        manifest = images.json_blob(manifest_digest)
        assert image.info.digest == manifest_digest
        assert image.info.config_digest == manifest["config"]["digest"]
        assert [layer.digest for layer in image.info.layers] == [x["digest"] for x in manifest["layers"]]
        assert image.info.layers[0].media_type == "application/vnd.oci.image.layer.v1.tar+gzip"
        assert_alpha(image.info, images, ref=target)
        blobs = await read_layers(image)
    assert "hello.txt" in tar_names(blobs[0])
    assert ".wh.hello.txt" in tar_names(blobs[1])  # the whiteout layer
    assert image.config["architecture"] == "amd64"


@pytest.mark.parametrize(
    ("platform", "expected"),
    [("linux/amd64", "alpha"), ("linux/arm64", "beta"), ("linux/arm64/v8", "beta")],
)
async def test_oci_layout_nested_index_chooses_the_platform(
    images: Images, platform: str, expected: str
) -> None:
    source = parse_target(f"oci:{images.layout}:multi", platform=platform)
    async with await source.open() as image:
        assert image.info.digest == images.manifest_digest(expected)
        await read_layers(image)
    if expected == "beta":
        # config says arm64 only; the empty_layer entry before the layer is skipped
        assert image.info.platform == "linux/arm64"
        assert [layer.created_by for layer in image.info.layers] == ["ADD beta /"]


async def test_oci_layout_errors_name_the_target(images: Images, tmp_path: Path) -> None:
    with pytest.raises(
        ImageError, match=r"no manifest for platform linux/s390x \(available: linux/amd64, linux/arm64/v8\)"
    ):
        await OCILayoutSource(str(images.layout), "multi", platform="linux/s390x").open()
    with pytest.raises(ImageError, match=r"no image tagged 'nope' \(tags: alpha, beta, multi\)"):
        await OCILayoutSource(str(images.layout), "nope").open()
    with pytest.raises(ImageError, match="holds 3 images; name one with :TAG"):
        await OCILayoutSource(str(images.layout)).open()
    with pytest.raises(ImageError, match="no such directory"):
        await parse_target(f"oci:{tmp_path}/missing:alpha").open()

    broken = tmp_path / "broken"
    shutil.copytree(images.layout, broken)
    manifest = images.json_blob(images.manifest_digest("alpha"))
    layer = manifest["layers"][1]["digest"]
    (broken / "blobs/sha256" / layer.split(":")[1]).unlink()
    image = await OCILayoutSource(str(broken), "alpha").open()
    with pytest.raises(LayerError, match=f"oci:{broken}:alpha: blob {layer} missing"):
        await read_layers(image)
    (broken / "blobs/sha256" / manifest["config"]["digest"].split(":")[1]).write_bytes(b"{}")
    with pytest.raises(ImageError, match=f"blob {manifest['config']['digest']} is 2 bytes"):
        await OCILayoutSource(str(broken), "alpha").open()


async def test_oci_layout_layer_digest_mismatch_is_a_layer_error(images: Images, tmp_path: Path) -> None:
    broken = tmp_path / "tampered"
    shutil.copytree(images.layout, broken)
    layer = images.json_blob(images.manifest_digest("alpha"))["layers"][0]["digest"]
    path = broken / "blobs/sha256" / layer.split(":")[1]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    async with await OCILayoutSource(str(broken), "alpha").open() as image:
        with pytest.raises(LayerError, match=f"layer {layer}: digest mismatch"):
            async for _ in image.blob(image.info.layers[0]):
                pass


async def test_oci_archive_reads_in_place(images: Images) -> None:
    target = f"oci-archive:{images.oci_archive}:alpha"
    source = parse_target(target)
    assert isinstance(source, OCIArchiveSource)
    async with await source.open() as image:
        assert_alpha(image.info, images, ref=target)
        blobs = await read_layers(image)
    with tarfile.open(images.oci_archive) as tar:
        manifest_data = tar.extractfile(f"blobs/sha256/{image.info.digest.split(':')[1]}")
        assert manifest_data is not None
        assert sha256(manifest_data.read()) == image.info.digest
    assert ".wh.hello.txt" in tar_names(blobs[1])
    # the only image in the archive is found without a tag too
    async with await parse_target(f"oci-archive:{images.oci_archive}").open() as untagged:
        assert untagged.info.digest == image.info.digest


@pytest.mark.parametrize("variant", ["plain", "gzip", "legacy-symlinks"])
async def test_docker_archive_streams_layers_from_the_tar(images: Images, variant: str) -> None:
    path = {
        "plain": images.docker_archive,
        "gzip": images.docker_archive_gz,
        "legacy-symlinks": images.docker_archive_legacy,
    }[variant]
    if variant == "legacy-symlinks":
        with tarfile.open(path) as tar:
            manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
            members = {m.name: m for m in tar.getmembers()}
        assert all(members[name].issym() for name in manifest[0]["Layers"])
    target = f"docker-archive:{path}"
    async with await parse_target(target).open() as image:
        info = image.info
        assert_alpha(info, images, ref=target)
        config_digest = images.json_blob(images.manifest_digest("alpha"))["config"]["digest"]
        # no registry manifest: the config digest is the identity
        assert info.digest == info.config_digest == config_digest
        # skopeo stores layers uncompressed, so each blob digest is its diff_id
        assert [layer.digest for layer in info.layers] == [layer.diff_id for layer in info.layers]
        assert {layer.media_type for layer in info.layers} == {"application/vnd.oci.image.layer.v1.tar"}
        blobs = await read_layers(image)
    assert ".wh.hello.txt" in tar_names(blobs[1])


async def test_docker_archive_selects_by_repo_tag(images: Images) -> None:
    # skopeo wrote docker.io/fixture/alpha:latest; Docker's normalisation matches the short form
    source = parse_target(f"docker-archive:{images.docker_archive}:fixture/alpha:latest")
    assert isinstance(source, DockerArchiveSource)
    assert source.ref == "fixture/alpha:latest"
    async with await source.open() as image:
        assert image.info.layers
    with pytest.raises(
        ImageError, match=r"no image tagged 'fixture/other' \(tags: docker.io/fixture/alpha:latest\)"
    ):
        await parse_target(f"docker-archive:{images.docker_archive}:fixture/other").open()


async def test_docker_archive_rejects_other_files(images: Images, tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="not a docker archive"):
        await DockerArchiveSource(str(images.oci_archive)).open()
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(ImageError, match=f"docker-archive:{junk}: cannot read the archive"):
        await parse_target(f"docker-archive:{junk}").open()


async def test_dir_target_is_its_own_root(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    source = parse_target(f"dir:{tmp_path}")
    assert isinstance(source, DirectorySource)
    async with await source.open() as image:
        assert image.local_root() == str(tmp_path)
        assert image.config == {}
        assert [layer.digest for layer in image.info.layers] == [f"dir:{tmp_path}"]
        with pytest.raises(LayerError, match="has no layer blobs"):
            async for _ in image.blob(image.info.layers[0]):
                pass
    with pytest.raises(ImageError, match="no such directory"):
        await parse_target(f"dir:{tmp_path}/nope").open()


def test_parse_target_forms(images: Images) -> None:
    layout = parse_target(f"oci:{images.layout}")
    assert isinstance(layout, OCILayoutSource)
    assert (layout.path, layout.tag) == (str(images.layout), "")
    tagged = parse_target(f"oci:{images.layout}:beta", platform="linux/arm64")
    assert isinstance(tagged, OCILayoutSource)
    assert (tagged.path, tagged.tag, str(tagged.platform)) == (str(images.layout), "beta", "linux/arm64")
    assert tagged.describe() == f"oci:{images.layout}:beta"
    bare = parse_target("127.0.0.1:5000/fixture/alpha:latest")
    assert isinstance(bare, RegistrySource)
    assert str(bare.reference) == "127.0.0.1:5000/fixture/alpha:latest"
    explicit = parse_target("registry:alpine")
    assert isinstance(explicit, RegistrySource)
    assert str(explicit.reference) == "docker.io/library/alpine:latest"
    assert explicit.describe() == "registry:alpine"
    assert isinstance(parse_target("docker://alpine"), RegistrySource)
    with pytest.raises(ReferenceError_):
        parse_target("")
    with pytest.raises(ReferenceError_):
        parse_target("oci:")
    with pytest.raises(ReferenceError_):
        parse_target("registry:Not/Valid")
