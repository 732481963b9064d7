"""The layer walk: whiteouts, opaque directories, shadowed copies, compressions and broken layers."""

from __future__ import annotations

import gzip

import pytest

from services.common.errors import LayerError
from services.engine.requests import FileRequest, glob_matches
from services.engine.walk import FileHit, Skipped, walk_image
from tests.engine.memimage import Entry, Layer, MemoryImage, tar_bytes

REQ = FileRequest(name="t", patterns=("etc/app.conf", "opt/**/*.txt", "db/status"), shadowed=False)
SHADOW = FileRequest(name="s", patterns=("db/status",), shadowed=True)


async def _walk(image: MemoryImage, requests=(REQ,)) -> tuple[list[FileHit], list[Skipped]]:
    hits: list[FileHit] = []
    skips: list[Skipped] = []
    await walk_image(image, list(requests), hits.append, skips.append)
    return hits, skips


def _visible(hits: list[FileHit]) -> dict[str, bytes]:
    return {h.path: h.data for h in hits if h.visible}


BASE = Layer(
    [
        Entry("etc", is_dir=True),
        Entry("etc/app.conf", b"v1"),
        Entry("db/status", b"base"),
        Entry("opt/a/keep.txt", b"keep"),
        Entry("opt/a/gone.txt", b"gone"),
        Entry("opt/legacy/old.txt", b"old"),
        Entry("opt/dir/sub/x.txt", b"x"),
    ],
    created_by="base",
)


async def test_final_filesystem_applies_whiteouts_opaque_dirs_and_overrides() -> None:
    image = MemoryImage(
        [
            BASE,
            Layer([Entry("./etc/app.conf", b"v2"), Entry("opt/a/.wh.gone.txt", b"")], compression="zstd"),
            Layer(
                [
                    Entry("opt/legacy/.wh..wh..opq", b""),
                    Entry("opt/legacy/new.txt", b"new"),
                    Entry("opt/.wh.dir", b""),
                ],
                compression="none",
            ),
        ]
    )
    hits, skips = await _walk(image)
    assert skips == []
    assert _visible(hits) == {
        "etc/app.conf": b"v2",
        "db/status": b"base",
        "opt/a/keep.txt": b"keep",
        "opt/legacy/new.txt": b"new",
    }
    assert all(h.visible for h in hits)  # REQ does not ask for shadowed copies


async def test_shadowed_copies_are_delivered_only_when_asked_for() -> None:
    image = MemoryImage([BASE, Layer([Entry("db/status", b"upper")])])
    hits, _ = await _walk(image, (REQ, SHADOW))
    status = sorted((h.request, h.layer_index, h.visible, h.data) for h in hits if h.path == "db/status")
    assert status == [("s", 0, False, b"base"), ("s", 1, True, b"upper"), ("t", 1, True, b"upper")]


async def test_a_whiteout_does_not_hide_its_own_layer_and_recreation_above_wins() -> None:
    image = MemoryImage(
        [
            BASE,
            Layer([Entry("etc/.wh.app.conf", b""), Entry("etc/other", b"")]),
            Layer([Entry("etc/app.conf", b"v3")]),
        ]
    )
    hits, _ = await _walk(image)
    assert _visible(hits)["etc/app.conf"] == b"v3"
    assert [h.layer_index for h in hits if h.path == "etc/app.conf"] == [2]


async def test_symlink_replacing_a_directory_hides_lower_contents() -> None:
    image = MemoryImage([BASE, Layer([Entry("opt/a", link="/elsewhere")])])
    hits, _ = await _walk(image)
    assert "opt/a/keep.txt" not in _visible(hits)


async def test_hard_links_and_size_caps() -> None:
    small = FileRequest(name="cap", patterns=("big.txt",), max_bytes=10)
    req = FileRequest(name="t", patterns=("opt/*.txt",))
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("opt/a.txt", b"data"),
                    Entry("opt/b.txt", hardlink="opt/a.txt"),
                    Entry("big.txt", b"x" * 11),
                ]
            )
        ]
    )
    hits, skips = await _walk(image, (req, small))
    assert _visible(hits) == {"opt/a.txt": b"data", "opt/b.txt": b"data"}
    assert [(s.path, s.request) for s in skips] == [("big.txt", "cap")]
    assert "over the 10-byte cap" in skips[0].reason


async def test_truncated_gzip_names_image_layer_and_file() -> None:
    good = gzip.compress(tar_bytes([Entry("opt/a/one.txt", b"1" * 50000), Entry("etc/app.conf", b"x")]))
    image = MemoryImage([BASE, Layer([], mangle=good[: len(good) // 2])], ref="oci:/fixtures/broken")
    with pytest.raises(LayerError) as err:
        await _walk(image)
    msg = str(err.value)
    assert "oci:/fixtures/broken" in msg
    assert "layer 2/2 sha256:" in msg
    assert "opt/a/one.txt" in msg  # the file being read when the stream ended
    assert "truncated" in msg or "unexpected end" in msg


async def test_digest_mismatch_while_streaming_fails_the_layer() -> None:
    image = MemoryImage([BASE])
    image.tamper.add(image.info.layers[0].digest)
    with pytest.raises(LayerError, match="layer 1/1"):
        await _walk(image)


async def test_zstd_and_uncompressed_layers_read_the_same() -> None:
    entries = [Entry("etc/app.conf", b"same")]
    for how in ("zstd", "none", "gzip"):
        hits, _ = await _walk(MemoryImage([Layer(entries, compression=how)]))
        assert _visible(hits) == {"etc/app.conf": b"same"}, how


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("var/lib/dpkg/status.d/*", "var/lib/dpkg/status.d/tzdata", True),
        ("var/lib/dpkg/status.d/*", "var/lib/dpkg/status.d/a/b", False),
        ("**/package.json", "package.json", True),
        ("**/package.json", "usr/lib/node_modules/x/package.json", True),
        ("opt/**/*.txt", "opt/a.txt", True),
        ("etc/os-release", "etc/os-release.bak", False),
    ],
)
def test_glob_rules(pattern: str, path: str, expected: bool) -> None:
    assert glob_matches(pattern, path) is expected


async def test_a_tar_that_stops_right_after_the_last_files_data_is_complete() -> None:
    """umoci 0.4.7 (Debian 12) writes layers without the final padding and end blocks."""
    import io as _io
    import tarfile

    raw = tar_bytes([Entry("etc/app.conf", b"x" * 700), Entry("opt/a/last.txt", b"replaced\n")])
    with tarfile.open(fileobj=_io.BytesIO(raw)) as tar:
        last = tar.getmembers()[-1]
    end = last.offset_data + last.size
    hits, _ = await _walk(MemoryImage([Layer([], mangle=gzip.compress(raw[:end]))]))
    assert _visible(hits) == {"etc/app.conf": b"x" * 700, "opt/a/last.txt": b"replaced\n"}
    # one byte less is a real truncation
    with pytest.raises(LayerError, match="unexpected end of data"):
        await _walk(MemoryImage([Layer([], mangle=gzip.compress(raw[: end - 1]))]))
