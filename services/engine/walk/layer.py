"""One layer blob walked as a tar stream: whiteouts, hiding, budgets and the diff_id check.

Every byte of the uncompressed layer passes through ``Meter``, which hashes it (SHA-256, the
``diff_id``) and counts it against the layer and image budgets. After the tar's last member the
rest of the stream is read and hashed too; a layer whose hash is not the ``diff_id`` its image's
config claims fails the image (``LayerError`` naming image, layer, claimed and actual digest).
Only then, once the blob's own digest has been checked too, is the layer reported verified
(``walk_image``'s ``on_verified``), which is what lets the layer cache
key results by verified digests only.
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from collections.abc import Sequence

from services.common.errors import LayerError
from services.engine.budget import BudgetExceeded, ScanBudget
from services.engine.decompress import ChunkStream, decompressed_raw
from services.engine.requests import FileRequest, RequestMatcher
from services.engine.walk.deliver import Delivery, Kept, Readable, magic_ok, over_cap
from services.engine.walk.hits import OnHit, OnSkip
from services.engine.walk.local import walk_directory
from services.engine.walk.paths import OPAQUE_MARKER, WHITEOUT_PREFIX, LayerState, Upper, normalize, text_name
from services.engine.walk.tarstream import (
    DATA_TYPES,
    DIRECTORY,
    HARD_LINK,
    SYMLINK,
    TarFormatError,
    TarMember,
    TarStream,
)

_DRAIN = 1 << 20


class Meter(io.RawIOBase):
    """Hashes and counts the uncompressed bytes as they leave the decompressor (in pieces of up to
    1 MiB, below the tar reader's buffer: one hash update per piece, not per read), and enforces
    the layer and image byte budgets."""

    def __init__(self, inner: io.RawIOBase, limit: int, image_left: int, where: str) -> None:
        self._inner = inner
        self.sha256 = hashlib.sha256()
        self.total = 0
        self._limit = limit
        self._image_left = image_left
        self._where = where

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self._inner.readinto(b) or 0
        if n:
            self.sha256.update(memoryview(b)[:n])
            self.total += n
            if self.total > self._limit:
                raise BudgetExceeded("layer_bytes_max", self._limit, f"{self._where}: uncompressed layer")
            if self.total > self._image_left:
                where = f"{self._where}: uncompressed image"
                raise BudgetExceeded("image_bytes_max", self._image_left, where)
        return n


def layer_byte_limit(budget: ScanBudget, compressed_size: int) -> int:
    """How far one layer may expand: a multiple of its compressed size, at least a floor, at most a cap."""
    return min(
        max(budget.layer_expand_ratio * compressed_size, budget.layer_expand_floor_bytes),
        budget.layer_bytes_max,
    )


class _Layer:
    """One layer's walk in progress: where it is, what it adds, what it keeps for hard links."""

    __slots__ = ("describe", "excluded", "index", "links", "state")

    def __init__(self, index: int, describe: str, excluded: frozenset[str], state: LayerState) -> None:
        self.index = index
        self.describe = describe
        self.excluded = excluded
        self.state = state
        # oldest first: past ``_LINK_ENTRIES`` the oldest is let go (``OrderedDict.popitem`` in O(1))
        self.links: OrderedDict[str, Kept] = OrderedDict()


class LayerWalker(Delivery):
    """Walks an image's layers for a fixed set of requests; one instance per image."""

    def __init__(
        self,
        requests: Sequence[FileRequest],
        on_hit: OnHit,
        on_skip: OnSkip,
        budget: ScanBudget = ScanBudget(),
    ) -> None:
        super().__init__(on_hit, on_skip, budget)
        self._matcher = RequestMatcher(requests)
        self.directories = any(r.directories for r in requests)
        # directory entries are matched only against requests that want them (most want none)
        self.dir_matcher = RequestMatcher([r for r in requests if r.directories])
        self.upper = Upper()
        self.image_bytes = 0
        # paths this short and shallow are within the path budgets without measuring their bytes
        self._path_chars = budget.path_bytes_max // 4
        self._path_depth = budget.path_depth_max

    def match(self, path: str) -> list[FileRequest]:
        return self._matcher.match(path)

    def hidden(self, path: str) -> bool:
        """Whether the layers walked so far (those above the current one) hide ``path``."""
        return self.upper.hides(path)

    def walk_directory(self, root: str) -> None:
        """Walk a directory tree as the one layer of a ``dir:`` target (symlinks are not followed)."""
        walk_directory(self, root)

    def walk_tar(
        self,
        fileobj: ChunkStream,
        layer_index: int,
        describe: str,
        excluded: frozenset[str] = frozenset(),
        *,
        diff_id: str = "",
        compressed_size: int = 0,
        last: bool = False,
    ) -> str:
        """Walk one layer blob (any compression) given as a chunk stream. Runs in a worker thread.

        Requests named in ``excluded`` (their results for this layer are already known, from the
        layer cache) receive nothing from this layer, so their files are not read at all; the
        paths they match still hide lower copies as usual. ``last``: no layer lies below this one,
        so nothing it holds needs remembering. A non-empty ``diff_id`` is checked (see the module);
        returns the layer's actual digest (``sha256:<hex>`` of the uncompressed stream).
        """
        layer = _Layer(layer_index, describe, excluded, LayerState(self.upper, record=not last))
        self.reset_links()
        limit = layer_byte_limit(self.budget, compressed_size)
        meter = Meter(
            decompressed_raw(fileobj), limit, self.budget.image_bytes_max - self.image_bytes, describe
        )
        reader = io.BufferedReader(meter, buffer_size=_DRAIN)
        try:
            self._members(reader, layer)
            while reader.read(_DRAIN):  # the rest of the stream, past the tar's end, is hashed too
                pass
        finally:
            self.image_bytes += meter.total
            for kept in layer.links.values():
                kept.close()
        actual = "sha256:" + meter.sha256.hexdigest()
        if diff_id and actual != diff_id:
            raise LayerError(
                f"{describe}: diff_id mismatch: the image config claims {diff_id}, "
                f"the layer's uncompressed content is {actual}"
            )
        layer.state.merge_into(self.upper)
        return actual

    def _members(self, reader: Readable, layer: _Layer) -> None:
        describe = layer.describe
        current = "(layer header)"
        entries = 0
        entries_max = self.budget.entries_per_layer_max
        entry = self._entry
        tar = TarStream(reader)
        try:
            for member in tar.members():
                name = member.name
                current = name if name.isascii() else text_name(name)
                entries += 1
                if entries > entries_max:
                    raise BudgetExceeded("entries_per_layer_max", entries_max, describe)
                entry(tar, member, current, layer)
        except TarFormatError as exc:
            raise LayerError(f"{describe}: unreadable tar stream: {exc} (while reading {current!r})") from exc
        except LayerError as exc:
            raise LayerError(f"{describe}: {exc} (while reading {current!r})") from exc
        except (EOFError, OSError) as exc:
            raise LayerError(f"{describe}: unreadable tar stream: {exc} (while reading {current!r})") from exc

    def check_path(self, path: str, where: str) -> None:
        """Path length and depth budgets (``BudgetExceeded`` fails the image)."""
        budget = self.budget
        if len(path) * 4 > budget.path_bytes_max and len(path.encode()) > budget.path_bytes_max:
            raise BudgetExceeded("path_bytes_max", budget.path_bytes_max, f"{where}: path {path[:200]!r}...")
        if path.count("/") >= budget.path_depth_max:
            raise BudgetExceeded("path_depth_max", budget.path_depth_max, f"{where}: path {path[:200]!r}...")

    def _whiteout(self, path: str, state: LayerState) -> bool:
        """Record ``path`` if it is a whiteout (``.wh.NAME``, ``.wh..wh..opq``); whether it was one."""
        base = path[path.rfind("/") + 1 :]
        if not base.startswith(WHITEOUT_PREFIX):
            return False
        if state.record:
            parent = path[: -len(base)].rstrip("/")
            if base == OPAQUE_MARKER:
                state.opaque.add(parent)
            else:
                target = base[len(WHITEOUT_PREFIX) :]
                state.deleted.add(f"{parent}/{target}" if parent else target)
        return True

    def _entry(self, tar: TarStream, member: TarMember, name: str, layer: _Layer) -> None:
        # the per-member path of the walk: most members are matched, found unwanted and left here
        path = normalize(name) if name.startswith("./") else name.strip("/")
        if not path:
            return
        if len(path) > self._path_chars or path.count("/") >= self._path_depth:
            self.check_path(path, layer.describe)
        state = layer.state
        if WHITEOUT_PREFIX in path and self._whiteout(path, state):
            return
        type_ = member.type
        if type_ == SYMLINK and state.record:
            state.symlinks.add(path)
        if type_ == DIRECTORY:
            if self.directories:
                self._directory(member, path, layer)
            return
        wanted = self._matcher.match(path)
        if not wanted:
            return
        if state.record:
            state.present.add(path)
        link = type_ == HARD_LINK
        if not (link or type_ in DATA_TYPES):
            return
        if layer.excluded:
            wanted = [r for r in wanted if r.name not in layer.excluded]
            if not wanted:
                return
        visible = not self.upper.hides(path)
        eligible = self.eligible(wanted, path, layer.index, visible, member.mode, 0 if link else member.size)
        if not eligible:
            return
        if link:
            self._link(eligible, path, layer.index, visible, member, layer.links)
        elif member.sparse:
            for req in eligible:
                if req.report_oversize:
                    self.skip(req, path, layer.index, "sparse file: its content is not read")
        else:
            kept = self.deliver(eligible, path, layer.index, visible, member.mode, tar, member.size)
            self.retain(layer.links, path, kept)

    def _link(
        self,
        eligible: Sequence[FileRequest],
        path: str,
        layer_index: int,
        visible: bool,
        member: TarMember,
        links: OrderedDict[str, Kept],
    ) -> None:
        """Serve a hard link from its target's kept content (a link member carries no data, size 0)."""
        target = normalize(text_name(member.linkname))
        kept = links.get(target)
        if kept is not None:
            # the target's first bytes decide ``magic`` for the link too, kept or not
            eligible = [r for r in eligible if magic_ok(r, kept.head)]
        if kept is None or not kept.has_content:
            reason = f"hard link to {target!r}, whose content was not kept"
            for req in eligible:
                if req.report_oversize:
                    self.skip(req, path, layer_index, reason)
            return
        fits: list[FileRequest] = []
        for req in eligible:
            if kept.size <= req.max_bytes:
                fits.append(req)
            elif req.report_oversize:
                self.skip(req, path, layer_index, over_cap(kept.size, req.max_bytes))
        if fits:
            self.deliver(fits, path, layer_index, visible, member.mode, kept.reader()).close()

    def _directory(self, member: TarMember, path: str, layer: _Layer) -> None:
        """A directory entry for ``directories`` requests: no data, its mode with ``S_IFDIR`` set.

        Every matching directory counts as present, so a lower copy with other permissions is hidden.
        """
        wanted = self.dir_matcher.match(path)
        if not wanted:
            return
        if layer.state.record:
            layer.state.present.add(path)
        if layer.excluded:
            wanted = [r for r in wanted if r.name not in layer.excluded]
            if not wanted:
                return
        visible = not self.upper.hides(path)
        for req in wanted:
            if (not visible and not req.shadowed) or (req.mode_mask and not member.mode & req.mode_mask):
                continue
            self.hit(req, path, layer.index, visible, member.mode | 0o040000, b"", None)
