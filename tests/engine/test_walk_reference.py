"""The walk against a plain reference model on every fixture image: identical hits, skips and layers.

The reference reads each layer with ``tarfile`` in random-access mode (``extractfile`` resolves
hard links itself), matches requests with ``glob_matches`` one pattern at a time, and applies the
documented rules (top-down visibility, whiteouts, opaque directories, symlinked directories, size
caps, ``magic``, ``text_only``, modes) in the most direct way. Whatever the walk does to be fast
(its compact path sets, skipped bookkeeping for the base layer, delivery without copies, ISA-L
inflate, its own decompression readers), its output must stay exactly this, so reports built from
it stay identical before and after such changes.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest
import zstandard

from services.engine.requests import FileRequest, glob_matches
from services.engine.walk import FileHit, Skipped, normalize, text_name, walk_image
from tests.engine.memimage import LayoutImage

REQUESTS = (
    FileRequest(name="all", patterns=("**",), shadowed=True, max_bytes=256 * 1024, report_oversize=False),
    FileRequest(
        name="conf",
        patterns=("etc/**", "var/lib/dpkg/status", "**/os-release", "lib/apk/db/installed"),
        max_bytes=64 * 1024,
    ),
    FileRequest(
        name="modes", patterns=("**",), mode_mask=0o6002, directories=True, metadata_only=True, shadowed=True
    ),
    FileRequest(
        name="elf",
        patterns=("usr/bin/*", "bin/*", "usr/lib/**/*.so*"),
        executable=True,
        magic=(b"\x7fELF",),
        spool=True,
        max_bytes=64 << 20,
    ),
    FileRequest(
        name="docs", patterns=("usr/share/doc/**",), text_only=True, max_bytes=4096, report_oversize=False
    ),
)

Hit = tuple[str, str, int, bool, int, str]  # request, path, layer, visible, mode, sha256 of the content
Skip = tuple[str, str, int, str]


# every fixture image built by tests/fixtures/build-images.sh that is meant to scan cleanly
LAYOUTS = ("oci/debian", "oci/alpine", "content/oci/planted", "rpm/oci/rhel9", "rpm/oci/centos7")


def _open_layer(path: Path) -> tarfile.TarFile:
    data = path.read_bytes()
    if data.startswith(b"\x28\xb5\x2f\xfd"):
        data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True).read()
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:*")


class Reference:
    """The walk's rules, applied directly."""

    def __init__(self) -> None:
        self.present: set[str] = set()
        self.deleted: set[str] = set()
        self.opaque: set[str] = set()
        self.symlinks: set[str] = set()
        self.hits: list[Hit] = []
        self.skips: list[Skip] = []

    def hides(self, path: str) -> bool:
        parts = path.split("/")
        ancestors = {"/".join(parts[:i]) for i in range(1, len(parts))}
        gone = self.deleted | self.opaque | self.symlinks
        return path in self.present or path in self.deleted or bool(ancestors & gone)

    def layer(self, tar: tarfile.TarFile, index: int) -> None:
        added: dict[str, set[str]] = {"present": set(), "deleted": set(), "opaque": set(), "symlinks": set()}
        for member in tar.getmembers():
            self.member(tar, member, index, added)
        for name, paths in added.items():
            getattr(self, name).update(paths)

    def member(
        self, tar: tarfile.TarFile, m: tarfile.TarInfo, index: int, added: dict[str, set[str]]
    ) -> None:
        path = normalize(text_name(m.name))
        if not path:
            return
        base = path.rsplit("/", 1)[-1]
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if base == ".wh..wh..opq":
            added["opaque"].add(parent)
            return
        if base.startswith(".wh."):
            added["deleted"].add(f"{parent}/{base[4:]}" if parent else base[4:])
            return
        if m.issym():
            added["symlinks"].add(path)
        wanted = [
            r
            for r in REQUESTS
            if (r.directories or not m.isdir()) and any(glob_matches(p, path) for p in r.patterns)
        ]
        if not wanted:
            return
        added["present"].add(path)
        visible = not self.hides(path)
        if m.isdir():
            for r in wanted:
                if (visible or r.shadowed) and (not r.mode_mask or m.mode & r.mode_mask):
                    self.hits.append(
                        (r.name, path, index, visible, m.mode | 0o040000, hashlib.sha256().hexdigest())
                    )
            return
        if m.isreg() or m.islnk():
            self.file(tar, m, path, index, visible, wanted)

    def file(
        self,
        tar: tarfile.TarFile,
        m: tarfile.TarInfo,
        path: str,
        index: int,
        visible: bool,
        wanted: list[FileRequest],
    ) -> None:
        content: bytes | None = None
        for r in wanted:
            if (not visible and not r.shadowed) or (r.executable and not m.mode & 0o111):
                continue
            if r.mode_mask and not m.mode & r.mode_mask:
                continue
            if r.metadata_only:
                self.hits.append((r.name, path, index, visible, m.mode, hashlib.sha256().hexdigest()))
                continue
            if content is None:
                fh = tar.extractfile(m)  # a hard link's content is its target's
                content = fh.read() if fh is not None else b""
            if len(content) > r.max_bytes:
                if r.report_oversize:
                    reason = f"file is {len(content)} bytes, over the {r.max_bytes}-byte cap"
                    self.skips.append((r.name, path, index, reason))
                continue
            head = content[:64]
            if (r.text_only and b"\0" in head) or (r.magic and not any(head.startswith(x) for x in r.magic)):
                continue
            self.hits.append((r.name, path, index, visible, m.mode, hashlib.sha256(content).hexdigest()))


def reference(image: LayoutImage) -> tuple[list[Hit], list[Skip]]:
    model = Reference()
    for index in range(len(image.info.layers) - 1, -1, -1):
        with _open_layer(image.blob_path(image.info.layers[index])) as tar:
            model.layer(tar, index)
    return sorted(model.hits), sorted(model.skips)


async def walked(image: LayoutImage) -> tuple[list[Hit], list[Skip], list[tuple[int, str]]]:
    hits: list[Hit] = []
    skips: list[Skip] = []
    verified: list[tuple[int, str]] = []

    def on_hit(hit: FileHit) -> None:
        content = hit.file.read() if hit.file is not None else hit.data
        hits.append(
            (
                hit.request,
                hit.path,
                hit.layer_index,
                hit.visible,
                hit.mode,
                hashlib.sha256(content).hexdigest(),
            )
        )

    def on_skip(s: Skipped) -> None:
        skips.append((s.request, s.path, s.layer_index, s.reason))

    await walk_image(image, REQUESTS, on_hit, on_skip, on_verified=lambda i, d: verified.append((i, d)))
    return sorted(hits), sorted(skips), sorted(verified)


@pytest.mark.parametrize("layout", LAYOUTS)
async def test_the_walk_matches_the_reference_model(fixtures: Path, layout: str) -> None:
    image = LayoutImage(fixtures / layout)
    hits, skips, verified = await walked(image)
    expected_hits, expected_skips = reference(image)
    assert len(hits) == len(expected_hits)
    assert hits == expected_hits
    assert skips == expected_skips
    assert verified == [(i, layer.diff_id) for i, layer in enumerate(image.info.layers)]
