"""Local image sources on hostile input: nesting, wrong JSON types, special files, sparse giants.

Each case was a traceback, a hang or a memory blow-up before the typed decoding (``documents``)
and the regular-file checks (``blobio.regular_file``); now each is one ``ImageError`` or
``LayerError`` naming the target, the document and the problem.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from services.common.errors import ImageError, LayerError
from services.engine.budget import BudgetExceeded, ScanBudget
from services.engine.image.interface import OpenedImage
from services.engine.image.targets import parse_target
from services.engine.image.tarindex import TarIndex
from services.oci.documents import json_too_deep
from tests.hostile.builders import (
    Image,
    dumps,
    layer_tar,
    nested,
    sha256,
    write_blob,
    write_docker_archive,
    write_layout,
    write_oci_archive,
)

FILES = {"etc/os-release": b"ID=assaytest\nVERSION_ID=1\n", "app/data.txt": b"data\n"}


def good_image() -> Image:
    return Image(layers=[layer_tar(FILES, compress=True), layer_tar({"b.txt": b"b\n"})])


async def open_target(target: str, budget: ScanBudget = ScanBudget()) -> OpenedImage:
    return await parse_target(target, budget=budget).open()


async def drain(image: OpenedImage) -> int:
    total = 0
    async with image:
        for layer in image.info.layers:
            async for chunk in image.blob(layer):
                total += len(chunk)
    return total


def test_depth_check_counts_brackets_outside_strings_only() -> None:
    assert json_too_deep(nested(33), 32)
    assert not json_too_deep(nested(32), 32)
    assert not json_too_deep(dumps({"a": "[" * 100, "b": [{"c": "]]]\\"}]}), 4)
    assert json_too_deep(b'{"a":' + b'[{"b":' * 20 + b"1" + b"}]" * 20 + b"}", 32)


async def test_a_well_formed_layout_still_opens(tmp_path: Path) -> None:
    write_layout(tmp_path / "l", good_image())
    image = await open_target(f"oci:{tmp_path / 'l'}")
    assert image.info.platform == "linux/amd64"
    assert await drain(image) == sum(len(b) for b in good_image().layers)


@pytest.mark.parametrize("where", ["index", "manifest", "config"])
async def test_deeply_nested_json_is_a_clear_error(tmp_path: Path, where: str) -> None:
    image = good_image()
    index = None
    if where == "index":
        index = b'{"manifests":' + nested(5000) + b"}"
    elif where == "manifest":
        image.manifest_bytes = b'{"layers":' + nested(5000) + b"}"
    else:
        image.config_bytes = b'{"history":' + nested(5000) + b"}"
    write_layout(tmp_path / "l", image, index_bytes=index)
    with pytest.raises(ImageError, match="nested more than 32 levels deep"):
        await open_target(f"oci:{tmp_path / 'l'}")


async def test_deeply_nested_docker_manifest_json_is_a_clear_error(tmp_path: Path) -> None:
    path = write_docker_archive(tmp_path / "a.tar", good_image(), manifest_json=nested(100_000))
    with pytest.raises(ImageError, match=r"manifest.json: JSON nested more than"):
        await open_target(f"docker-archive:{path}")


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"history": 3}, r"\$\.history"),
        ({"rootfs": {"type": "layers", "diff_ids": 7}}, r"\$\.rootfs\.diff_ids"),
        ({"config": {"Env": "PATH=/bin"}}, r"\$\.config\.Env"),
        ({"os": ["linux"]}, r"\$\.os"),
    ],
)
async def test_wrong_config_types_name_the_field(tmp_path: Path, extra: dict[str, object], path: str) -> None:
    image = good_image()
    image.config_extra = extra
    write_layout(tmp_path / "l", image)
    with pytest.raises(ImageError, match=r"config sha256:[0-9a-f]+: unexpected JSON: .* - at `" + path):
        await open_target(f"oci:{tmp_path / 'l'}")


async def test_a_size_given_as_a_string_is_a_clear_error(tmp_path: Path) -> None:
    image = good_image()
    doc = json.loads(image.manifest())
    doc["layers"][0]["size"] = str(doc["layers"][0]["size"])
    image.manifest_bytes = dumps(doc)
    write_layout(tmp_path / "l", image)
    with pytest.raises(ImageError, match=r"Expected `int`, got `str` - at `\$\.layers\[0\]\.size`"):
        await open_target(f"oci:{tmp_path / 'l'}")


async def test_manifests_as_a_number_in_index_json(tmp_path: Path) -> None:
    write_layout(tmp_path / "l", good_image(), index_bytes=b'{"schemaVersion":2,"manifests":12}')
    with pytest.raises(ImageError, match=r"index.json: unexpected JSON: .* - at `\$\.manifests`"):
        await open_target(f"oci:{tmp_path / 'l'}")


async def test_repo_tags_as_a_number_in_a_docker_archive(tmp_path: Path) -> None:
    image = good_image()
    manifest = dumps([{"Config": sha256(image.config())[7:] + ".json", "RepoTags": 5, "Layers": []}])
    path = write_docker_archive(tmp_path / "a.tar", image, manifest_json=manifest)
    with pytest.raises(ImageError, match=r"manifest.json: unexpected JSON: .* - at `\$\[0\]\.RepoTags`"):
        await open_target(f"docker-archive:{path}")


async def test_index_json_linked_to_dev_zero_is_refused(tmp_path: Path) -> None:
    root = write_layout(tmp_path / "l", good_image())
    (root / "index.json").unlink()
    (root / "index.json").symlink_to("/dev/zero")
    with pytest.raises(ImageError, match=r"index.json: not a regular file"):
        await open_target(f"oci:{root}")


async def test_a_sparse_giant_index_json_is_refused_unread(tmp_path: Path) -> None:
    root = write_layout(tmp_path / "l", good_image())
    with (root / "index.json").open("r+b") as f:
        f.truncate(1 << 30)  # 1 GiB, sparse: reading it would take 1 GiB of memory
    with pytest.raises(ImageError, match=r"index.json: 1073741824 bytes is more than the \d+ allowed"):
        await open_target(f"oci:{root}")


async def test_a_fifo_as_a_layer_blob_fails_without_hanging(tmp_path: Path) -> None:
    image = good_image()
    root = write_layout(tmp_path / "l", image)
    blob = root / "blobs/sha256" / sha256(image.layers[1])[7:]
    blob.unlink()
    os.mkfifo(blob)
    opened = await open_target(f"oci:{root}")
    with pytest.raises(LayerError, match="not a regular file"):
        await drain(opened)


async def test_a_sparse_giant_layer_declared_small_is_never_read(tmp_path: Path) -> None:
    image = good_image()
    root = write_layout(tmp_path / "l", image)
    blob = root / "blobs/sha256" / sha256(image.layers[0])[7:]
    with blob.open("r+b") as f:
        f.truncate(8 << 30)  # 8 GiB sparse; reading it to the digest check would take minutes
    opened = await open_target(f"oci:{root}")
    with pytest.raises(LayerError, match=r"8589934592 bytes stored, the manifest says \d+"):
        await drain(opened)


async def test_a_gzipped_docker_archive_is_inflated_once_and_removed_on_close(tmp_path: Path) -> None:
    image = good_image()
    path = write_docker_archive(tmp_path / "a.tar.gz", image, gzipped=True)
    index = TarIndex.build(path, "t")
    inflated = index._tar
    assert inflated != path
    assert inflated.exists()
    with inflated.open("rb") as f:
        assert f.read(2) != b"\x1f\x8b"  # members are read by offset from a plain tar
    opened = await open_target(f"docker-archive:{path}")
    assert await drain(opened) == sum(len(b) for b in image.layers)
    index.close()
    assert not inflated.exists()


async def test_inflating_a_gzipped_archive_is_bounded_by_the_temp_disk_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = Image(layers=[layer_tar({"zeros": bytes(4 << 20)})])
    path = write_docker_archive(tmp_path / "a.tar.gz", image, gzipped=True)
    assert path.stat().st_size < 64 << 10
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    budget = ScanBudget(temp_disk_bytes_max=1 << 20)
    expected = r"temp_disk_bytes_max exceeded .*ASSAY_BUDGET_TEMP_DISK_BYTES_MAX"
    with pytest.raises(BudgetExceeded, match=expected):
        await open_target(f"docker-archive:{path}", budget)
    assert not any(spool.iterdir())  # the partial copy is removed


async def test_an_oci_archive_with_a_nested_index_is_a_clear_error(tmp_path: Path) -> None:
    path = write_oci_archive(tmp_path / "o.tar", good_image(), index_bytes=nested(2000))
    with pytest.raises(ImageError, match=r"index.json: JSON nested more than"):
        await open_target(f"oci-archive:{path}")


async def test_a_blob_named_by_a_wrong_digest_path_is_refused(tmp_path: Path) -> None:
    image = good_image()
    root = write_layout(tmp_path / "l", image)
    write_blob(root, b"unrelated")
    doc = json.loads(image.manifest())
    doc["layers"][0]["digest"] = "sha256:../../../etc/passwd"
    image.manifest_bytes = dumps(doc)
    write_layout(root, image)
    opened = await open_target(f"oci:{root}")
    with pytest.raises(LayerError, match="invalid blob digest"):
        await drain(opened)
