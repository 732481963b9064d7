"""The image-access seam: every way of reaching an image ends in an ``OpenedImage``.

A source resolves a target (layout, archive, registry, directory) to a manifest and
config, and streams each layer blob once. Implementations: ``oci_layout``,
``docker_archive``, ``oci_archive``, ``registry``, ``directory``.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from typing import Any

from schemas.records import ImageInfo, LayerInfo


class OpenedImage(abc.ABC):
    """An image whose manifest and config have been read.

    ``info.layers`` lists the layers bottom (base) first, with ``created_by`` taken from
    the config's non-empty history entries. ``config`` is the decoded image config JSON.
    """

    info: ImageInfo
    config: dict[str, Any]

    @abc.abstractmethod
    def blob(self, layer: LayerInfo) -> AsyncIterator[bytes]:
        """Stream a layer blob as stored (compressed or not), in chunks of at most 1 MiB.

        The digest is verified while streaming: a mismatch or a short read raises
        ``LayerError`` naming the layer after the last chunk.
        """

    def local_root(self) -> str | None:
        """For a ``dir:`` target, the directory that *is* the final filesystem; else None.

        The layer walk reads such a tree directly instead of decoding layer blobs.
        """
        return None

    async def aclose(self) -> None:
        """Release files or connections held by the image."""
        return None

    async def __aenter__(self) -> OpenedImage:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class ImageSource(abc.ABC):
    """Something that can open an image: the parsed form of a scan target."""

    @abc.abstractmethod
    async def open(self) -> OpenedImage:
        """Resolve the manifest (choosing the platform from an index) and read the config."""

    @abc.abstractmethod
    def describe(self) -> str:
        """The target as the user would write it, for reports and error messages."""
