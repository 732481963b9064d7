"""The node's container runtime over its socket: the CRI v1 image service and containerd's own API.

CRI (``runtime.v1.ImageService``) is the kubelet's view: the images it manages, with their
tags, size and config id. CRI shows only containerd's ``k8s.io`` namespace and leaves
``repo_digests`` empty for imported images, so each tag is also looked up in containerd's
images service (``containerd.services.images.v1.Images/Get``, gRPC metadata
``containerd-namespace``) for its target descriptor: the manifest or index digest that is the
image's identity. Blobs are read from containerd's content store
(``containerd.services.content.v1.Content/Read``), streamed in the chunks containerd sends.

The proto modules in ``proto/`` are hand-written subsets of the upstream APIs (see
``proto/regenerate.sh``). Every gRPC failure becomes ``ContainerdError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import grpc
import grpc.aio

from services.common.errors import AssayError
from services.node.proto import containerd_content_pb2 as content_pb
from services.node.proto import containerd_content_pb2_grpc as content_rpc
from services.node.proto import containerd_images_pb2 as images_pb
from services.node.proto import containerd_images_pb2_grpc as images_rpc
from services.node.proto import cri_pb2 as cri_pb
from services.node.proto import cri_pb2_grpc as cri_rpc

__all__ = [
    "BlobInfo",
    "ContainerdClient",
    "ContainerdError",
    "CriImage",
    "ImageTarget",
]

_NAMESPACE_HEADER = "containerd-namespace"
_MAX_MESSAGE = 16 * 1024 * 1024  # containerd sends content in chunks far below this


class ContainerdError(AssayError):
    """The container runtime could not be reached or refused a call; ``not_found`` says 404."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


@dataclass(frozen=True)
class CriImage:
    """One image as CRI lists it: config id, tags (``registry/repo:tag``), digests, size."""

    id: str
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class ImageTarget:
    """A containerd image record: its name and the descriptor it points at."""

    name: str
    media_type: str
    digest: str
    size: int


@dataclass(frozen=True)
class BlobInfo:
    """A blob in the content store."""

    digest: str
    size: int


class ContainerdClient:
    """One gRPC channel to the runtime socket; use as an async context manager."""

    def __init__(self, socket_path: str, *, namespace: str = "k8s.io") -> None:
        self._target = socket_path if socket_path.startswith("unix:") else f"unix://{socket_path}"
        self._namespace = namespace
        self._metadata = ((_NAMESPACE_HEADER, namespace),)
        self._channel: grpc.aio.Channel | None = None
        self._stubs: _Stubs | None = None

    async def __aenter__(self) -> ContainerdClient:
        self._channel = grpc.aio.insecure_channel(
            self._target,
            options=[("grpc.max_receive_message_length", _MAX_MESSAGE)],
        )
        self._stubs = _Stubs(self._channel)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        channel, self._channel, self._stubs = self._channel, None, None
        if channel is not None:
            await channel.close()

    def _require(self) -> _Stubs:
        if self._stubs is None:
            raise ContainerdError("ContainerdClient used outside its context")
        return self._stubs

    def _error(self, what: str, exc: grpc.aio.AioRpcError) -> ContainerdError:
        code = exc.code()
        return ContainerdError(
            f"containerd {self._target} ({self._namespace}): {what}: {code.name}: {exc.details()}",
            not_found=code == grpc.StatusCode.NOT_FOUND,
        )

    async def runtime_version(self) -> str:
        """``runtime_name runtime_version (CRI runtime_api_version)`` from CRI ``Version``."""
        stub = self._require().runtime
        try:
            v = await stub.Version(cri_pb.VersionRequest(version="v1"))
        except grpc.aio.AioRpcError as exc:
            raise self._error("CRI Version", exc) from exc
        return f"{v.runtime_name} {v.runtime_version} (CRI {v.runtime_api_version})"

    async def cri_images(self) -> list[CriImage]:
        """Every image the kubelet's runtime lists (CRI ``ListImages``)."""
        stub = self._require().cri_images
        try:
            response = await stub.ListImages(cri_pb.ListImagesRequest())
        except grpc.aio.AioRpcError as exc:
            raise self._error("CRI ListImages", exc) from exc
        return [
            CriImage(
                id=im.id,
                repo_tags=tuple(im.repo_tags),
                repo_digests=tuple(im.repo_digests),
                size=im.size,
            )
            for im in response.images
        ]

    async def image(self, name: str) -> ImageTarget | None:
        """containerd's record for an image name (``Images/Get``); None when there is none."""
        stub = self._require().images
        try:
            response = await stub.Get(images_pb.GetImageRequest(name=name), metadata=self._metadata)
        except grpc.aio.AioRpcError as exc:
            err = self._error(f"Images.Get {name}", exc)
            if err.not_found:
                return None
            raise err from exc
        return _target(response.image)

    async def images(self) -> list[ImageTarget]:
        """Every image record in the namespace (``Images/List``)."""
        stub = self._require().images
        try:
            response = await stub.List(images_pb.ListImagesRequest(), metadata=self._metadata)
        except grpc.aio.AioRpcError as exc:
            raise self._error("Images.List", exc) from exc
        return [_target(im) for im in response.images]

    async def blob_info(self, digest: str) -> BlobInfo | None:
        """The content store's record of a blob (``Content/Info``); None when it is absent."""
        stub = self._require().content
        try:
            response = await stub.Info(content_pb.InfoRequest(digest=digest), metadata=self._metadata)
        except grpc.aio.AioRpcError as exc:
            err = self._error(f"Content.Info {digest}", exc)
            if err.not_found or exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                return None
            raise err from exc
        return BlobInfo(digest=response.info.digest, size=response.info.size)

    async def read_blob(self, digest: str) -> AsyncIterator[bytes]:
        """The blob's bytes in containerd's chunks (``Content/Read``), never held whole.

        gRPC flow control stops containerd from sending faster than the caller consumes.
        """
        stub = self._require().content
        call = stub.Read(content_pb.ReadContentRequest(digest=digest), metadata=self._metadata)
        try:
            async for chunk in call:
                yield chunk.data
        except grpc.aio.AioRpcError as exc:
            raise self._error(f"Content.Read {digest}", exc) from exc
        finally:
            call.cancel()

    async def read_small_blob(self, digest: str, limit: int) -> bytes:
        """A whole blob of at most ``limit`` bytes (a manifest or config)."""
        out = bytearray()
        async for chunk in self.read_blob(digest):
            out += chunk
            if len(out) > limit:
                raise ContainerdError(f"containerd blob {digest}: larger than {limit} bytes")
        return bytes(out)


class _Stubs:
    """The generated client stubs on one channel (the generated modules are untyped)."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.runtime: Any = cri_rpc.RuntimeServiceStub(channel)  # type: ignore[no-untyped-call]
        self.cri_images: Any = cri_rpc.ImageServiceStub(channel)  # type: ignore[no-untyped-call]
        self.images: Any = images_rpc.ImagesStub(channel)  # type: ignore[no-untyped-call]
        self.content: Any = content_rpc.ContentStub(channel)  # type: ignore[no-untyped-call]


def _target(image: images_pb.Image) -> ImageTarget:
    t = image.target
    return ImageTarget(name=image.name, media_type=t.media_type, digest=t.digest, size=t.size)
