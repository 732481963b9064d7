"""OCI archives (``oci-archive:FILE[:TAG]``): a tar of an OCI image layout, as skopeo writes.

Read in place: the tar's members are indexed once, then ``index.json`` and the blobs are
read by offset within the tar. Resolution is ``oci_layout.open_layout``.
"""

from __future__ import annotations

import asyncio

from services.common.errors import ImageError
from services.engine.budget import ScanBudget
from services.engine.image.blobio import BlobRange, existing_file
from services.engine.image.interface import ImageSource, OpenedImage
from services.engine.image.oci_layout import blob_path, open_layout
from services.engine.image.tarindex import TarIndex
from services.oci.manifest import Platform

__all__ = ["ArchiveStore", "OCIArchiveSource"]


class ArchiveStore:
    """A ``LayoutStore`` over the members of a tar."""

    def __init__(self, index: TarIndex) -> None:
        self.index = index

    def read_index(self) -> bytes:
        """``index.json`` from the archive."""
        if "oci-layout" not in self.index or "index.json" not in self.index:
            raise ImageError(f"{self.index.what}: not an OCI archive (no oci-layout or index.json inside)")
        return self.index.read("index.json")

    def locate(self, digest: str) -> BlobRange:
        """The member ``blobs/<alg>/<hex>``."""
        name = blob_path(digest, self.index.what)
        if name not in self.index:
            raise ImageError(f"{self.index.what}: blob {digest} missing")
        return self.index.locate(name)


class OCIArchiveSource(ImageSource):
    """``oci-archive:FILE[:TAG]``: an OCI layout packed in a tar, read without extracting."""

    def __init__(
        self,
        path: str,
        tag: str = "",
        *,
        platform: str = "linux/amd64",
        target: str = "",
        budget: ScanBudget = ScanBudget(),
    ) -> None:
        self.path = path
        self.tag = tag
        self.platform = Platform.parse(platform)
        self.target = target or (f"oci-archive:{path}:{tag}" if tag else f"oci-archive:{path}")
        self.budget = budget

    def describe(self) -> str:
        """The target as given."""
        return self.target

    async def open(self) -> OpenedImage:
        """Index the tar, then resolve the layout inside it."""

        def run() -> OpenedImage:
            path = existing_file(self.path, self.target)
            index = TarIndex.build(path, self.target, self.budget)
            try:
                store = ArchiveStore(index)
                return open_layout(
                    store, what=self.target, tag=self.tag, platform=self.platform, closer=index.close
                )
            except BaseException:
                index.close()
                raise

        return await asyncio.to_thread(run)
