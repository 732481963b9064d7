"""Images pulled from a registry (``registry:REF`` or a bare reference).

``open_registry_image`` resolves the reference to one image manifest (choosing the
platform from an OCI index or Docker manifest list), reads the config, and returns an
``OpenedImage`` whose layers stream straight from the registry, verified as they arrive.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from schemas.records import ImageInfo, LayerInfo
from services.common.config import RegistryConfig
from services.common.errors import ImageError, LayerError, ReferenceError_, RegistryError
from services.engine.image.interface import ImageSource, OpenedImage
from services.oci.documents import Descriptor, ManifestDoc, decode_config, decode_document
from services.oci.manifest import Platform, build_info, choose_descriptor, manifest_kind
from services.oci.node_names import origin_of
from services.oci.reference import Reference, parse_reference
from services.oci.registry import RegistryClient

__all__ = ["RegistryImage", "RegistrySource", "node_origin", "open_registry_image"]

log = logging.getLogger(__name__)

_MAX_NESTING = 4


class RegistryImage(OpenedImage):
    """An image in a registry; ``blob`` streams from it. Closes the client if it owns it."""

    def __init__(
        self,
        client: RegistryClient,
        reference: Reference,
        info: ImageInfo,
        config: dict[str, Any],
        *,
        owns_client: bool,
    ) -> None:
        self.client = client
        self.reference = reference
        self.info = info
        self.config = config
        self._owns_client = owns_client

    async def blob(self, layer: LayerInfo) -> AsyncIterator[bytes]:
        """Stream the layer blob from the registry, verifying its digest and size.

        A node daemon that no longer holds the layer (a lazily pulled image, GKE Image Streaming,
        or a blob collected since the node listed the image) answers 404 ``BLOB_UNKNOWN``; the
        layer is then fetched from the image's own registry, which the daemon's repository names
        (``<registry>/<path>``), with the same credentials chain (the pod's pull secrets first).
        """
        what = f"{self.info.ref}: layer {layer.digest}"
        sent = False
        origin: Reference | None = None
        try:
            async for chunk in self.client.stream_blob(
                self.reference, layer.digest, size=layer.size or None, what=what
            ):
                sent = True
                yield chunk
        except RegistryError as exc:
            origin = None if sent or exc.status != 404 else node_origin(self.client, self.reference)
            if origin is None:
                raise LayerError(f"{what}: {exc}") from exc
        if origin is None:
            return
        log.info("%s: the node lacks it; fetching it from %s", what, origin.registry)
        what = f"{what} (the node lacks it; from {origin.registry}/{origin.repository})"
        try:
            async for chunk in self.client.stream_blob(
                origin, layer.digest, size=layer.size or None, what=what
            ):
                yield chunk
        except RegistryError as exc:
            raise LayerError(f"{what}: {exc}") from exc

    async def aclose(self) -> None:
        """Close the client when this image owns it."""
        if self._owns_client:
            self._owns_client = False
            await self.client.close()


def node_origin(client: RegistryClient, reference: Reference) -> Reference | None:
    """The image's own registry when ``reference`` is served by a node daemon, else None.

    A daemon serves ``<address>/<registry>/<path>`` (``services/oci/node_names.py``); its
    registries are configured with a ``node_key``.
    """
    config = client.config_for(reference.registry)
    origin = origin_of(reference.repository) if config is not None and config.node_key else None
    if origin is None or not reference.digest:
        return None
    try:
        return parse_reference(f"{origin[0]}/{origin[1]}@{reference.digest}")
    except ReferenceError_:
        return None


async def open_registry_image(
    client: RegistryClient,
    reference: Reference,
    *,
    platform: Platform,
    display: str = "",
    owns_client: bool = False,
) -> RegistryImage:
    """Fetch the manifest (through any index, by ``platform``) and config of ``reference``.

    ``display`` is how the user wrote the target; it becomes ``ImageInfo.ref``.
    """
    display = display or str(reference)
    fetched = await client.get_manifest(reference)
    descriptor = Descriptor()
    for _ in range(_MAX_NESTING):
        what = f"{display}: manifest {fetched.digest}"
        doc = decode_document(fetched.data, ManifestDoc, what)
        if manifest_kind(doc, fetched.media_type, what) == "manifest":
            break
        descriptor = choose_descriptor(doc.manifests or [], platform, f"{display}: index {fetched.digest}")
        fetched = await client.get_manifest(reference, descriptor.digest)
    else:
        raise ImageError(f"{display}: indexes nested more than {_MAX_NESTING} deep")
    if doc.config is None or not doc.config.digest:
        raise ImageError(f"{display}: manifest {fetched.digest} has no config")
    config_digest = doc.config.digest
    config, whole = decode_config(
        await client.read_blob(reference, config_digest), f"{display}: config {config_digest}"
    )
    info = build_info(
        ref=display,
        digest=fetched.digest,
        manifest=doc,
        config_digest=config_digest,
        config=config,
        fallback_platform=Platform.from_doc(descriptor.platform),
    )
    return RegistryImage(client, reference, info, whole, owns_client=owns_client)


class RegistrySource(ImageSource):
    """``registry:REF`` or a bare ``REF``: pull over the distribution API.

    ``open`` makes its own ``RegistryClient`` (with ``client_factory`` when given, e.g. a
    different retry policy); the opened image owns it and closes it.
    """

    def __init__(
        self,
        reference: str,
        *,
        registries: Sequence[RegistryConfig] = (),
        platform: str = "linux/amd64",
        target: str = "",
        client_factory: Callable[[Sequence[RegistryConfig]], RegistryClient] | None = None,
    ) -> None:
        self.reference = parse_reference(reference)
        self.registries = list(registries)
        self.platform = Platform.parse(platform)
        self.target = target or reference
        self._client_factory = client_factory or RegistryClient

    def describe(self) -> str:
        """The target as given."""
        return self.target

    async def open(self) -> OpenedImage:
        """Resolve the manifest and config; the returned image holds the open client."""
        client = self._client_factory(self.registries)
        await client.start()
        try:
            return await open_registry_image(
                client, self.reference, platform=self.platform, display=self.target, owns_client=True
            )
        except BaseException:
            await client.close()
            raise
