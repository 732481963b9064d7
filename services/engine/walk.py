"""The layer walk: each layer streamed once, top layer first, nothing extracted to disk.

Walking from the top layer down means a file's first occurrence is its final version:
later (lower) copies of the same path, and everything under a path that an upper layer
deleted (``.wh.NAME``) or made opaque (``.wh..wh..opq``), are hidden. The walk keeps
only the paths of whiteouts, opaque directories, symlinks and requested files, so its
memory does not grow with the bytes in the image.

Analyzers receive only the files their ``FileRequest`` names, each under a size cap, and
only those its ``accept`` test (a keyword prefilter run on the bytes in hand) lets through;
requests whose results for a layer are already cached are left out of that layer's walk.
A layer that cannot be read to the end raises ``LayerError`` naming the image, the
layer and the file being read.
"""

from __future__ import annotations

import asyncio
import io
import os
import queue
import shutil
import stat
import tarfile
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import IO, cast

import msgspec

from schemas.records import LayerInfo
from services.common.errors import ImageError, LayerError
from services.engine.decompress import ChunkStream, decompressed
from services.engine.image.interface import OpenedImage
from services.engine.requests import FileRequest, RequestMatcher

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_QUEUE_DEPTH = 4  # chunks of at most 1 MiB in flight between the network and the parser
_MAGIC_BYTES = 64  # read before deciding whether a ``magic`` request wants the file
# A file up to this size is read in one piece (one copy, no separate head read) when no request
# spools it; larger ones are judged by their first bytes before the rest is read.
_READ_WHOLE = 256 * 1024
_SPOOL_IN_MEMORY = 4 * 1024 * 1024  # a spooled file stays in memory up to this size, then goes to disk
_COPY_CHUNK = 1024 * 1024
_LINK_BUDGET = 16 * 1024 * 1024  # bytes of requested files kept in memory per layer for hard links to them
# Spooled files (every executable, for the binary catalogers) are kept for hard links mostly on disk:
# a few MiB in memory, then rolled over to a temporary file, up to a disk budget per layer.
_LINK_SPOOL_MEMORY = 8 * 1024 * 1024
_LINK_DISK_BUDGET = 512 * 1024 * 1024


class FileHit(msgspec.Struct, frozen=True, kw_only=True):
    """One requested file as the walk found it."""

    request: str
    path: str
    layer_index: int  # 0 is the base layer
    visible: bool  # False: a copy an upper layer replaced or deleted
    data: bytes  # empty for ``spool`` requests, which read ``file``
    mode: int = 0
    file: IO[bytes] | None = None  # ``spool`` requests: seekable, valid only during the callback


class Skipped(msgspec.Struct, frozen=True, kw_only=True):
    """A requested file the walk could not hand over (too large, a hard link it cannot follow)."""

    request: str
    path: str
    layer_index: int
    reason: str


OnHit = Callable[[FileHit], None]
OnSkip = Callable[[Skipped], None]
# Called as a layer's walk starts with its index and a test of whether the layers above hide a path.
OnLayer = Callable[[int, Callable[[str], bool]], None]


def normalize(name: str) -> str:
    """A tar member name as an image path without leading ``./`` or ``/`` or trailing ``/``."""
    while name.startswith("./"):
        name = name[2:]
    return name.strip("/")


def _ancestors(path: str) -> Iterator[str]:
    """Proper ancestors of ``a/b/c``: ``a``, ``a/b``."""
    end = path.find("/")
    while end != -1:
        yield path[:end]
        end = path.find("/", end + 1)


class _MemberReader:
    """A regular tar member's data read straight from the tar stream (what ``extractfile`` does,
    without its buffered wrapper): a member's bytes are then copied once, not twice."""

    def __init__(self, stream: IO[bytes], size: int) -> None:
        self._stream = stream
        self._left = size

    def read(self, size: int = -1) -> bytes:
        want = self._left if size < 0 else min(size, self._left)
        if want <= 0:
            return b""
        data = self._stream.read(want)
        if len(data) != want:
            raise tarfile.ReadError("unexpected end of data")
        self._left -= want
        return data


class _CountingReader:
    """Counts the uncompressed bytes handed to the tar reader."""

    def __init__(self, inner: io.BufferedReader) -> None:
        self._inner = inner
        self.total = 0

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size)
        self.total += len(data)
        return data


def _over_cap(size: int, cap: int) -> str:
    return f"file is {size} bytes, over the {cap}-byte cap"


class _Kept:
    """A requested file's content kept for hard links to it later in the same layer.

    ``head`` is always there (a link is judged by ``magic`` as its target was); the content
    is either ``data`` or an open spooled temporary file, or neither when over the budget.
    """

    def __init__(
        self,
        head: bytes,
        data: bytes | None = None,
        spool: tempfile.SpooledTemporaryFile[bytes] | None = None,
    ) -> None:
        self.head = head
        self.data = data
        self.spool = spool
        if data is not None:
            self.size = len(data)
        elif spool is not None:
            self.size = spool.seek(0, io.SEEK_END)
        else:
            self.size = 0
        self.on_disk = spool is not None and self.size > _SPOOL_IN_MEMORY

    def to_disk(self) -> None:
        if self.spool is not None and not self.on_disk:
            self.spool.rollover()
            self.on_disk = True

    @property
    def has_content(self) -> bool:
        return self.data is not None or self.spool is not None

    def reader(self) -> IO[bytes]:
        if self.spool is not None:
            self.spool.seek(0)
            return cast(IO[bytes], self.spool)
        return io.BytesIO(self.data or b"")

    def drop_content(self) -> None:
        self.close()
        self.data = None

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None


def _read_head(source: IO[bytes] | _MemberReader) -> bytes:
    """The first ``_MAGIC_BYTES`` bytes (fewer only at end of file), however the reader splits reads."""
    head = b""
    while len(head) < _MAGIC_BYTES:
        piece = source.read(_MAGIC_BYTES - len(head))
        if not piece:
            break
        head += piece
    return head


def _accepted(reqs: Sequence[FileRequest], path: str, data: bytes) -> list[FileRequest]:
    """The requests whose ``accept`` test (if any) takes ``data``; a test that raises takes it,
    so the analyzer's own scan meets the problem and reports it."""
    out: list[FileRequest] = []
    for req in reqs:
        if req.accept is not None:
            try:
                if not req.accept(path, data):
                    continue
            except Exception:  # the analyzer sees the file and reports its own error
                pass
        out.append(req)
    return out


def _magic_ok(req: FileRequest, head: bytes) -> bool:
    if req.text_only and b"\0" in head:
        return False
    return not req.magic or any(head.startswith(m) for m in req.magic)


class _Upper:
    """What the layers above the one being walked have said about paths."""

    def __init__(self) -> None:
        self.present: set[str] = set()  # requested files and symlinks that exist above
        self.deleted: set[str] = set()  # whiteouts: the path and all below it are gone
        self.opaque: set[str] = set()  # directories whose lower contents are gone
        self.symlinks: set[str] = set()  # a symlink above hides a lower directory of that name

    def hides(self, path: str) -> bool:
        if path in self.present or path in self.deleted:
            return True
        if "/" not in path:
            return False
        deleted, opaque, symlinks = self.deleted, self.opaque, self.symlinks
        return any(anc in deleted or anc in opaque or anc in symlinks for anc in _ancestors(path))


class _LayerState:
    """What one layer adds to ``_Upper``, merged only after the layer ends."""

    def __init__(self) -> None:
        self.present: set[str] = set()
        self.deleted: set[str] = set()
        self.opaque: set[str] = set()
        self.symlinks: set[str] = set()

    def merge_into(self, upper: _Upper) -> None:
        upper.present |= self.present
        upper.deleted |= self.deleted
        upper.opaque |= self.opaque
        upper.symlinks |= self.symlinks


class LayerWalker:
    """Walks an image's layers for a fixed set of requests; one instance per image."""

    def __init__(self, requests: Sequence[FileRequest], on_hit: OnHit, on_skip: OnSkip) -> None:
        self._matcher = RequestMatcher(requests)
        self._directories = any(r.directories for r in requests)
        # directory entries are matched only against requests that want them (most want none)
        self._dir_matcher = RequestMatcher([r for r in requests if r.directories])
        self._on_hit = on_hit
        self._on_skip = on_skip
        self._upper = _Upper()
        self._link_bytes = 0
        self._link_spool_bytes = 0
        self._link_disk_bytes = 0

    def walk_tar(
        self,
        fileobj: ChunkStream,
        layer_index: int,
        describe: str,
        excluded: frozenset[str] = frozenset(),
    ) -> None:
        """Walk one layer blob (any compression) given as a chunk stream. Runs in a worker thread.

        Requests named in ``excluded`` (their results for this layer are already known, from the
        layer cache) receive nothing from this layer, so their files are not read at all; the
        paths they match still hide lower copies as usual.
        """
        state = _LayerState()
        self._link_bytes = 0
        self._link_spool_bytes = 0
        self._link_disk_bytes = 0
        current = "(layer header)"
        counted = _CountingReader(decompressed(fileobj))
        complete_through = 0  # end of the last member whose data arrived in full
        links: dict[str, _Kept] = {}
        try:
            with tarfile.open(fileobj=cast(IO[bytes], counted), mode="r|") as tar:
                for member in tar:
                    current = member.name
                    complete_through = 0  # set again only once this member's data has been read
                    self._entry(tar, member, layer_index, state, links, excluded)
                    complete_through = member.offset_data + (member.size if member.isreg() else 0)
        except tarfile.ReadError as exc:
            # Some writers (umoci 0.4.7's `insert`) end the tar right after the last file's data,
            # without padding or end-of-archive blocks. Every byte of every file arrived, so the
            # layer is complete; anything shorter is a real truncation.
            if not (str(exc) == "unexpected end of data" and 0 < complete_through <= counted.total):
                raise LayerError(
                    f"{describe}: unreadable tar stream: {exc} (while reading {current!r})"
                ) from exc
        except LayerError as exc:
            raise LayerError(f"{describe}: {exc} (while reading {current!r})") from exc
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise LayerError(f"{describe}: unreadable tar stream: {exc} (while reading {current!r})") from exc
        finally:
            for kept in links.values():
                kept.close()
        state.merge_into(self._upper)

    def _entry(
        self,
        tar: tarfile.TarFile,
        member: tarfile.TarInfo,
        layer_index: int,
        state: _LayerState,
        links: dict[str, _Kept],
        excluded: frozenset[str],
    ) -> None:
        path = normalize(member.name)
        if not path:
            return
        base = path.rsplit("/", 1)[-1]
        if base.startswith(WHITEOUT_PREFIX):
            parent = path[: -len(base)].rstrip("/")
            if base == OPAQUE_MARKER:
                state.opaque.add(parent)
            else:
                target = base[len(WHITEOUT_PREFIX) :]
                state.deleted.add(f"{parent}/{target}" if parent else target)
            return
        if member.issym():
            state.symlinks.add(path)
        if member.isdir():
            if self._directories:
                self._directory(member, path, layer_index, state, excluded)
            return
        wanted = self._matcher.match(path)
        if not wanted:
            return
        state.present.add(path)
        if not (member.isreg() or member.islnk()):
            return
        if excluded:
            wanted = [r for r in wanted if r.name not in excluded]
            if not wanted:
                return
        hidden = self._upper.hides(path)
        eligible: list[FileRequest] = []
        for req in wanted:
            if hidden and not req.shadowed:
                continue
            if req.executable and not member.mode & 0o111:
                continue
            if req.mode_mask and not member.mode & req.mode_mask:
                continue
            if member.size > req.max_bytes:
                if req.report_oversize:
                    self._skip(req, path, layer_index, _over_cap(member.size, req.max_bytes))
                continue
            eligible.append(req)
        if not eligible:
            return
        if member.islnk():
            self._link(eligible, path, layer_index, not hidden, member, links)
            return
        source: IO[bytes] | _MemberReader
        if member.issparse() or tar.fileobj is None:
            fh = tar.extractfile(member)
            source = fh if fh is not None else io.BytesIO(b"")
        else:
            if tar.fileobj.tell() != member.offset_data:  # normally there: the header was just read
                tar.fileobj.seek(member.offset_data)
            source = _MemberReader(cast(IO[bytes], tar.fileobj), member.size)
        kept = self._deliver(eligible, path, layer_index, not hidden, member.mode, source, member.size)
        self._retain(links, path, kept)

    def _link(
        self,
        eligible: Sequence[FileRequest],
        path: str,
        layer_index: int,
        visible: bool,
        member: tarfile.TarInfo,
        links: dict[str, _Kept],
    ) -> None:
        """Serve a hard link from its target's kept content (a link member carries no data, size 0)."""
        target = normalize(member.linkname)
        kept = links.get(target)
        if kept is not None:
            # the target's first bytes decide ``magic`` for the link too, kept or not
            eligible = [r for r in eligible if _magic_ok(r, kept.head)]
        if kept is None or not kept.has_content:
            reason = f"hard link to {target!r}, whose content was not kept"
            for req in eligible:
                if req.report_oversize:
                    self._skip(req, path, layer_index, reason)
            return
        fits: list[FileRequest] = []
        for req in eligible:
            if kept.size <= req.max_bytes:
                fits.append(req)
            elif req.report_oversize:
                self._skip(req, path, layer_index, _over_cap(kept.size, req.max_bytes))
        if fits:
            self._deliver(fits, path, layer_index, visible, member.mode, kept.reader()).close()

    def _retain(self, links: dict[str, _Kept], path: str, kept: _Kept) -> None:
        """Keep ``kept`` for hard links within budget; past it keep only the first bytes."""
        if kept.spool is not None and not kept.on_disk:
            if self._link_spool_bytes + kept.size <= _LINK_SPOOL_MEMORY:
                self._link_spool_bytes += kept.size
            elif self._link_disk_bytes + kept.size <= _LINK_DISK_BUDGET:
                kept.to_disk()
                self._link_disk_bytes += kept.size
            else:
                kept.drop_content()
        elif kept.on_disk:
            if self._link_disk_bytes + kept.size <= _LINK_DISK_BUDGET:
                self._link_disk_bytes += kept.size
            else:
                kept.drop_content()
        elif kept.has_content:
            if self._link_bytes + kept.size <= _LINK_BUDGET:
                self._link_bytes += kept.size
            else:
                kept.drop_content()
        previous = links.pop(path, None)
        if previous is not None:
            previous.close()
        links[path] = kept

    def _directory(
        self,
        member: tarfile.TarInfo,
        path: str,
        layer_index: int,
        state: _LayerState,
        excluded: frozenset[str] = frozenset(),
    ) -> None:
        """A directory entry for ``directories`` requests: no data, its mode with ``S_IFDIR`` set.

        Every matching directory counts as present, so a lower copy with other permissions is hidden.
        """
        wanted = self._dir_matcher.match(path)
        if not wanted:
            return
        state.present.add(path)
        if excluded:
            wanted = [r for r in wanted if r.name not in excluded]
            if not wanted:
                return
        hidden = self._upper.hides(path)
        for req in wanted:
            if (hidden and not req.shadowed) or (req.mode_mask and not member.mode & req.mode_mask):
                continue
            self._hit(req, path, layer_index, not hidden, member.mode | stat.S_IFDIR, b"", None)

    def _deliver(
        self,
        eligible: Sequence[FileRequest],
        path: str,
        layer_index: int,
        visible: bool,
        mode: int,
        source: IO[bytes] | _MemberReader,
        size: int = -1,
    ) -> _Kept:
        """Read ``source`` once and hand it to every eligible request.

        Requests with ``magic`` see the file only if its first bytes match; ``spool`` requests
        get a seekable temporary file, the rest the bytes. Returns what was read (the first
        bytes, and the bytes or the still-open spool when a request took the file) for the
        caller to keep for hard links or to ``close``. ``size``, when known, lets a small file
        be read in one piece.
        """
        if 0 <= size <= _READ_WHOLE and not any(r.spool for r in eligible):
            data = source.read()
            head = data[:_MAGIC_BYTES]
            chosen = [r for r in eligible if _magic_ok(r, head)]
            if not chosen:
                return _Kept(head)
            for req in _accepted(chosen, path, data):
                self._hit(req, path, layer_index, visible, mode, data, None)
            return _Kept(head, data=data)
        head = _read_head(source)
        chosen = [r for r in eligible if _magic_ok(r, head)]
        if not chosen:
            return _Kept(head)
        if not any(r.spool for r in chosen):
            data = head + source.read()
            for req in _accepted(chosen, path, data):
                self._hit(req, path, layer_index, visible, mode, data, None)
            return _Kept(head, data=data)
        # not a ``with``: the spool may outlive this call, kept for hard links until the layer ends
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        stream = cast(IO[bytes], spool)
        try:
            spool.write(head)
            shutil.copyfileobj(cast(IO[bytes], source), stream, _COPY_CHUNK)
            data_for_bytes: bytes | None = None
            for req in chosen:
                spool.seek(0)
                if req.spool:
                    self._hit(req, path, layer_index, visible, mode, b"", stream)
                    continue
                if data_for_bytes is None:
                    data_for_bytes = spool.read()
                if _accepted((req,), path, data_for_bytes):
                    self._hit(req, path, layer_index, visible, mode, data_for_bytes, None)
        except BaseException:
            spool.close()
            raise
        if spool.closed:  # a parser closed it: nothing left to keep
            return _Kept(head)
        return _Kept(head, spool=spool)

    def _hit(
        self,
        req: FileRequest,
        path: str,
        layer_index: int,
        visible: bool,
        mode: int,
        data: bytes,
        file: IO[bytes] | None,
    ) -> None:
        self._on_hit(
            FileHit(
                request=req.name,
                path=path,
                layer_index=layer_index,
                visible=visible,
                data=data,
                mode=mode,
                file=file,
            )
        )

    def _skip(self, req: FileRequest, path: str, layer_index: int, reason: str) -> None:
        self._on_skip(Skipped(request=req.name, path=path, layer_index=layer_index, reason=reason))

    def hidden(self, path: str) -> bool:
        """Whether the layers walked so far (those above the current one) hide ``path``."""
        return self._upper.hides(path)

    def walk_directory(self, root: str) -> None:
        """Walk a directory tree as the one layer of a ``dir:`` target (symlinks are not followed)."""
        root = os.path.abspath(root)
        if not os.path.isdir(root):
            raise ImageError(f"dir:{root}: not a directory")
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            if self._directories:
                for name in dirnames:
                    self._local_directory(root, os.path.join(dirpath, name))
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                path = os.path.relpath(full, root).replace(os.sep, "/")
                wanted = self._matcher.match(path)
                if not wanted:
                    continue
                try:
                    st = os.lstat(full)
                except OSError as exc:
                    for req in wanted:
                        self._skip(req, path, 0, str(exc))
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                mode = st.st_mode & 0o7777
                eligible: list[FileRequest] = []
                for req in wanted:
                    if req.executable and not mode & 0o111:
                        continue
                    if req.mode_mask and not mode & req.mode_mask:
                        continue
                    if st.st_size > req.max_bytes:
                        if req.report_oversize:
                            self._skip(req, path, 0, _over_cap(st.st_size, req.max_bytes))
                        continue
                    eligible.append(req)
                if not eligible:
                    continue
                try:
                    with open(full, "rb") as fh:
                        self._deliver(eligible, path, 0, True, mode, fh, st.st_size).close()
                except OSError as exc:
                    for req in eligible:
                        self._skip(req, path, 0, str(exc))

    def _local_directory(self, root: str, full: str) -> None:
        path = os.path.relpath(full, root).replace(os.sep, "/")
        wanted = self._dir_matcher.match(path)
        if not wanted:
            return
        try:
            mode = os.lstat(full).st_mode
        except OSError:
            return
        if not stat.S_ISDIR(mode):
            return
        for req in wanted:
            if not req.mode_mask or mode & req.mode_mask:
                self._hit(req, path, 0, True, (mode & 0o7777) | stat.S_IFDIR, b"", None)


class _Bridge:
    """Hands blob chunks from the event loop to the parsing thread through a bounded queue."""

    _END = object()

    def __init__(self) -> None:
        self.queue: queue.Queue[object] = queue.Queue(maxsize=_QUEUE_DEPTH)
        self.aborted = threading.Event()
        self.ended = False

    def chunks(self) -> Iterator[bytes]:
        while not self.ended:
            item = self.queue.get()
            if item is self._END:
                self.ended = True
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item

    def put(self, item: object) -> bool:
        """Blocking put that gives up once the reader has stopped; False if it has."""
        while not self.aborted.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    async def feed(self, source: AsyncIterator[bytes]) -> None:
        try:
            async for chunk in source:
                if not await asyncio.to_thread(self.put, chunk):
                    return
        except LayerError as exc:
            await asyncio.to_thread(self.put, exc)
            return
        except Exception as exc:
            await asyncio.to_thread(self.put, LayerError(f"layer stream failed: {exc}"))
            return
        await asyncio.to_thread(self.put, self._END)


def _describe_layer(image: OpenedImage, layer: LayerInfo, index: int) -> str:
    return f"{image.info.ref}: layer {index + 1}/{len(image.info.layers)} {layer.digest}"


async def walk_image(
    image: OpenedImage,
    requests: Sequence[FileRequest],
    on_hit: OnHit,
    on_skip: OnSkip,
    *,
    excluded: Mapping[int, frozenset[str]] | None = None,
    on_layer: OnLayer | None = None,
) -> None:
    """Walk every layer of ``image`` top-down, calling ``on_hit`` for each requested file.

    ``excluded[i]`` names requests that get nothing from layer ``i`` (answered from the layer
    cache instead); ``on_layer(i, hidden)`` runs as layer ``i`` starts, where ``hidden(path)``
    says whether the layers above hide a path (what a hit's ``visible`` would have said).
    Callbacks run in a worker thread, one layer at a time; they must not touch the event loop.
    """
    walker = LayerWalker(requests, on_hit, on_skip)
    root = image.local_root()
    if root is not None:
        if on_layer is not None:
            on_layer(0, walker.hidden)
        await asyncio.to_thread(walker.walk_directory, root)
        return
    skip = excluded or {}
    layers = image.info.layers
    for index in range(len(layers) - 1, -1, -1):
        layer = layers[index]
        bridge = _Bridge()
        describe = _describe_layer(image, layer, index)

        def run(bridge: _Bridge = bridge, index: int = index, describe: str = describe) -> None:
            try:
                if on_layer is not None:
                    on_layer(index, walker.hidden)
                stream = ChunkStream(bridge.chunks())
                walker.walk_tar(stream, index, describe, skip.get(index, frozenset()))
                for _ in bridge.chunks():  # drain what is left after the tar end marker
                    pass
            except LayerError as exc:
                if describe not in str(exc):
                    raise LayerError(f"{describe}: {exc}") from exc
                raise
            finally:
                bridge.aborted.set()

        worker = asyncio.ensure_future(asyncio.to_thread(run))
        feeder = asyncio.ensure_future(bridge.feed(image.blob(layer)))
        try:
            await worker
        finally:
            bridge.aborted.set()
            await feeder
