"""An ``OpenedImage`` that shows each layer's bytes on a progress bar as they stream.

Layers are pulled and walked in one pass (a blob is read once, as the walk consumes it), so
one bar per layer shows both: bytes of the stored blob read so far against its manifest size.
Used only where a person watches (``assay scan`` on a terminal: ``IsolatedRequest.progress``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from schemas.records import LayerInfo
from services.common.progress import Progress
from services.engine.image.interface import OpenedImage

__all__ = ["ProgressImage"]


class ProgressImage(OpenedImage):
    """``inner``, with a bar per layer on ``progress`` while its blob streams."""

    def __init__(self, inner: OpenedImage, progress: Progress) -> None:
        self._inner, self._progress = inner, progress
        self.info, self.config = inner.info, inner.config

    async def blob(self, layer: LayerInfo) -> AsyncIterator[bytes]:
        layers = self.info.layers
        index = next((i for i, candidate in enumerate(layers) if candidate.digest == layer.digest), -1)
        short = layer.digest.split(":", 1)[-1][:12]
        task = self._progress.task(f"layer {index + 1}/{len(layers)} {short}", layer.size)
        try:
            async for chunk in self._inner.blob(layer):
                task.advance(len(chunk))
                yield chunk
        finally:
            task.done()

    def local_root(self) -> str | None:
        return self._inner.local_root()

    async def aclose(self) -> None:
        await self._inner.aclose()
