"""An image's layers walked top-down, each blob streamed once from the event loop to a worker thread."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence

from schemas.records import LayerInfo
from services.common.errors import LayerError
from services.engine.budget import ScanBudget
from services.engine.decompress import ChunkStream
from services.engine.image.interface import OpenedImage
from services.engine.requests import FileRequest
from services.engine.walk.hits import OnHit, OnLayer, OnSkip, OnVerified
from services.engine.walk.layer import LayerWalker

_QUEUE_DEPTH = 4  # chunks of at most 1 MiB in flight between the network and the parser


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
        except Exception as exc:  # a registry or read error mid-blob: the layer's failure, cause kept
            error = LayerError(f"layer stream failed: {exc}")
            error.__cause__ = exc  # raised in the walk thread (``chunks``), so not ``raise ... from``
            await asyncio.to_thread(self.put, error)
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
    on_verified: OnVerified | None = None,
    budget: ScanBudget = ScanBudget(),
) -> None:
    """Walk every layer of ``image`` top-down, calling ``on_hit`` for each requested file.

    ``excluded[i]`` names requests that get nothing from layer ``i`` (answered from the layer
    cache instead); ``on_layer(i, hidden)`` runs as layer ``i`` starts, where ``hidden(path)``
    says whether the layers above hide a path (what a hit's ``visible`` would have said);
    ``on_verified(i, diff_id)`` runs once layer ``i``'s content has matched its ``diff_id`` (a
    mismatch fails the image). ``budget`` bounds bytes, entries and paths (``BudgetExceeded``).
    Callbacks run in a worker thread, one layer at a time; they must not touch the event loop.
    """
    walker = LayerWalker(requests, on_hit, on_skip, budget)
    root = image.local_root()
    if root is not None:
        if on_layer is not None:
            on_layer(0, walker.hidden)
        await asyncio.to_thread(walker.walk_directory, root)
        return
    skip = excluded or {}
    for index in range(len(image.info.layers) - 1, -1, -1):
        await _walk_layer(image, walker, index, skip.get(index, frozenset()), on_layer, on_verified)


async def _walk_layer(
    image: OpenedImage,
    walker: LayerWalker,
    index: int,
    excluded: frozenset[str],
    on_layer: OnLayer | None,
    on_verified: OnVerified | None,
) -> None:
    """One layer: its blob fed from the event loop, walked in a worker thread."""
    layer = image.info.layers[index]
    bridge = _Bridge()
    describe = _describe_layer(image, layer, index)

    def run() -> None:
        try:
            if on_layer is not None:
                on_layer(index, walker.hidden)
            stream = ChunkStream(bridge.chunks())
            actual = walker.walk_tar(
                stream,
                index,
                describe,
                excluded,
                diff_id=layer.diff_id,
                compressed_size=layer.size,
                last=index == 0,
            )
            for _ in bridge.chunks():  # the blob's own end: its digest is checked after the last chunk
                pass
            if on_verified is not None and layer.diff_id:
                on_verified(index, actual)
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
