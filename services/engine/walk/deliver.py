"""Handing one file to the requests that want it: read once, judged by its first bytes, kept for links.

``Delivery`` is the part of the walk shared by layer blobs and ``dir:`` trees: it reads a file at
most once, in one piece when small, as a spooled temporary file when a request wants a stream, and
never when every request wants only its mode (``metadata_only``). What it read may be kept for hard
links later in the same layer, within memory and temporary-disk budgets.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from typing import IO, Protocol, cast

from services.engine.budget import ScanBudget
from services.engine.requests import FileRequest
from services.engine.walk.hits import FileHit, OnHit, OnSkip, Skipped

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
_LINK_DISK_SHARE = 4  # at most 1/4 of the temporary-disk budget holds files kept for hard links
_LINK_ENTRIES = 4096  # files kept for hard links per layer, the most recent (memory flat in file count)


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def over_cap(size: int, cap: int) -> str:
    return f"file is {size} bytes, over the {cap}-byte cap"


def read_head(source: Readable) -> bytes:
    """The first ``_MAGIC_BYTES`` bytes (fewer only at end of file), however the reader splits reads."""
    head = b""
    while len(head) < _MAGIC_BYTES:
        piece = source.read(_MAGIC_BYTES - len(head))
        if not piece:
            break
        head += piece
    return head


def accepted(reqs: Sequence[FileRequest], path: str, data: bytes) -> list[FileRequest]:
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


def magic_ok(req: FileRequest, head: bytes) -> bool:
    if req.text_only and b"\0" in head:
        return False
    return not req.magic or head.startswith(req.magic)


def _by_head(reqs: Sequence[FileRequest], head: bytes) -> list[FileRequest]:
    """The requests ``magic_ok`` keeps for a file starting with ``head`` (run for every file read)."""
    binary = b"\0" in head
    return [r for r in reqs if not (r.text_only and binary) and (not r.magic or head.startswith(r.magic))]


def _spools(reqs: Sequence[FileRequest]) -> bool:
    """Whether any request wants a stream (a plain loop: no generator per file, as ``any`` needs)."""
    for req in reqs:  # noqa: SIM110
        if req.spool:
            return True
    return False


class Kept:
    """A requested file's content kept for hard links to it later in the same layer.

    ``head`` is always there (a link is judged by ``magic`` as its target was); the content
    is either ``data`` or an open spooled temporary file, or neither when over the budget.
    """

    __slots__ = ("data", "head", "on_disk", "pool", "size", "spool")

    def __init__(
        self,
        head: bytes,
        data: bytes | None = None,
        spool: tempfile.SpooledTemporaryFile[bytes] | None = None,
    ) -> None:
        self.head = head
        self.data = data
        self.spool = spool
        self.on_disk = False
        if spool is not None:
            self.size = spool.seek(0, io.SEEK_END)
            self.on_disk = self.size > _SPOOL_IN_MEMORY
        else:
            self.size = 0 if data is None else len(data)
        self.pool = ""  # which budget of ``Delivery.retain`` holds the content, if any

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


class Delivery:
    """Hits and skips for one image's requests, and the per-layer hard-link keep."""

    def __init__(self, on_hit: OnHit, on_skip: OnSkip, budget: ScanBudget) -> None:
        self._on_hit = on_hit
        self._on_skip = on_skip
        self.budget = budget
        self._link_disk_budget = budget.temp_disk_bytes_max // _LINK_DISK_SHARE
        self.reset_links()

    def reset_links(self) -> None:
        self._link_bytes = 0
        self._link_spool_bytes = 0
        self._link_disk_bytes = 0

    def eligible(
        self, wanted: Sequence[FileRequest], path: str, layer_index: int, visible: bool, mode: int, size: int
    ) -> list[FileRequest]:
        """The requests that want this file's content; ``metadata_only`` ones get their hit here."""
        out: list[FileRequest] = []
        for req in wanted:
            if (not visible and not req.shadowed) or (req.executable and not mode & 0o111):
                continue
            if req.mode_mask and not mode & req.mode_mask:
                continue
            if req.metadata_only:
                self.hit(req, path, layer_index, visible, mode, b"", None)
                continue
            if size > req.max_bytes:
                if req.report_oversize:
                    self.skip(req, path, layer_index, over_cap(size, req.max_bytes))
                continue
            if req.spool and size > self.spool_room():
                self.skip(req, path, layer_index, self._over_disk(size))
                continue
            out.append(req)
        return out

    def spool_room(self) -> int:
        """Bytes one more spooled file may take on temporary disk now."""
        return self.budget.temp_disk_bytes_max - self._link_disk_bytes

    def _over_disk(self, size: int) -> str:
        limit = self.budget.temp_disk_bytes_max
        return (
            f"file is {size} bytes, over the temporary-disk budget temp_disk_bytes_max ({limit} bytes, "
            f"{self._link_disk_bytes} in use; setting ASSAY_BUDGET_TEMP_DISK_BYTES_MAX)"
        )

    def deliver(
        self,
        eligible: Sequence[FileRequest],
        path: str,
        layer_index: int,
        visible: bool,
        mode: int,
        source: Readable,
        size: int = -1,
    ) -> Kept:
        """Read ``source`` once and hand it to every eligible request.

        Requests with ``magic`` see the file only if its first bytes match; ``spool`` requests
        get a seekable temporary file, the rest the bytes. Returns what was read (the first
        bytes, and the bytes or the still-open spool when a request took the file) for the
        caller to keep for hard links or to ``close``. ``size``, when known, lets a small file
        be read in one piece.
        """
        if 0 <= size <= _READ_WHOLE and not _spools(eligible):
            data = source.read()
            head = data[:_MAGIC_BYTES]
            chosen = _by_head(eligible, head)
            if not chosen:
                return Kept(head)
            for req in accepted(chosen, path, data):
                self.hit(req, path, layer_index, visible, mode, data, None)
            return Kept(head, data=data)
        head = read_head(source)
        chosen = _by_head(eligible, head)
        if not chosen:
            return Kept(head)
        if not _spools(chosen):
            data = head + source.read()
            for req in accepted(chosen, path, data):
                self.hit(req, path, layer_index, visible, mode, data, None)
            return Kept(head, data=data)
        return self._spooled(chosen, path, layer_index, visible, mode, source, head)

    def _spooled(
        self,
        chosen: Sequence[FileRequest],
        path: str,
        layer_index: int,
        visible: bool,
        mode: int,
        source: Readable,
        head: bytes,
    ) -> Kept:
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
                    self.hit(req, path, layer_index, visible, mode, b"", stream)
                    continue
                if data_for_bytes is None:
                    data_for_bytes = spool.read()
                if accepted((req,), path, data_for_bytes):
                    self.hit(req, path, layer_index, visible, mode, data_for_bytes, None)
        except BaseException:
            spool.close()
            raise
        if spool.closed:  # a parser closed it: nothing left to keep
            return Kept(head)
        return Kept(head, spool=spool)

    def retain(self, links: OrderedDict[str, Kept], path: str, kept: Kept) -> None:
        """Keep ``kept`` for hard links within budget; past it keep only the first bytes.

        At most ``_LINK_ENTRIES`` files are kept, the most recent ones (a link follows its target in
        the tar, usually closely): older ones are let go, so the keep does not grow with the file
        count. A link to a file let go is reported as a link whose content was not kept.
        """
        if kept.spool is not None:
            self._keep_spooled(kept)
        elif kept.data is not None:  # most files: small, read whole
            if self._link_bytes + kept.size <= _LINK_BUDGET:
                self._link_bytes += kept.size
                kept.pool = "memory"
            else:
                kept.drop_content()
        previous = links.pop(path, None)
        if previous is not None:
            self._release(previous)
        links[path] = kept
        while len(links) > _LINK_ENTRIES:
            self._release(links.popitem(last=False)[1])

    def _keep_spooled(self, kept: Kept) -> None:
        if not kept.on_disk:
            if self._link_spool_bytes + kept.size <= _LINK_SPOOL_MEMORY:
                self._link_spool_bytes += kept.size
                kept.pool = "spool"
            elif self._link_disk_bytes + kept.size <= self._link_disk_budget:
                kept.to_disk()
                self._link_disk_bytes += kept.size
                kept.pool = "disk"
            else:
                kept.drop_content()
        elif self._link_disk_bytes + kept.size <= self._link_disk_budget:
            self._link_disk_bytes += kept.size
            kept.pool = "disk"
        else:
            kept.drop_content()

    def _release(self, kept: Kept) -> None:
        pool = kept.pool
        if pool == "memory":
            self._link_bytes -= kept.size
        elif pool == "spool":
            self._link_spool_bytes -= kept.size
        elif pool == "disk":
            self._link_disk_bytes -= kept.size
        kept.pool = ""
        if kept.spool is not None:
            kept.close()

    def hit(
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

    def skip(self, req: FileRequest, path: str, layer_index: int, reason: str) -> None:
        self._on_skip(Skipped(request=req.name, path=path, layer_index=layer_index, reason=reason))
