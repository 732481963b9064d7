"""A directory as a scan target (``dir:PATH``): the tree *is* the final filesystem.

There is no manifest or config: ``info.layers`` holds one pseudo layer whose digest is
``dir:<absolute path>`` (so packages can name where they came from), ``info.digest`` and
``config_digest`` are empty, and ``local_root()`` returns the path for the layer walk.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

from schemas.records import ImageInfo, LayerInfo
from services.common.errors import ImageError, LayerError
from services.engine.image.interface import ImageSource, OpenedImage

__all__ = ["DirectoryImage", "DirectorySource"]


class DirectoryImage(OpenedImage):
    """An opened ``dir:`` target; it has no blobs."""

    def __init__(self, root: str, ref: str) -> None:
        self._root = root
        self.info = ImageInfo(ref=ref, layers=[LayerInfo(digest=f"dir:{root}")])
        self.config = {}

    def local_root(self) -> str:
        """The directory to walk."""
        return self._root

    async def blob(self, layer: LayerInfo) -> AsyncIterator[bytes]:
        """Always fails: a directory target has no layer blobs (walk ``local_root()``)."""
        nothing: list[bytes] = []  # the loop only makes this an async generator
        for chunk in nothing:
            yield chunk
        raise LayerError(f"{self.info.ref}: a directory has no layer blobs")


class DirectorySource(ImageSource):
    """``dir:PATH``."""

    def __init__(self, path: str, *, target: str = "") -> None:
        self.path = path
        self.target = target or f"dir:{path}"

    def describe(self) -> str:
        """The target as given."""
        return self.target

    async def open(self) -> OpenedImage:
        """Check the directory exists."""
        root = await asyncio.to_thread(os.path.abspath, self.path)
        if not await asyncio.to_thread(os.path.isdir, root):
            raise ImageError(f"{self.target}: no such directory")
        return DirectoryImage(root, self.target)
