"""From an opened image to its inventory: distribution, packages (with layers) and unknowns.

The one analysis core shared by ``assay scan`` and the engine workers.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import msgspec

from schemas.records import Distro, ImageInfo, LayerInfo, PackageRecord, Unknown
from services.engine import distro as distro_mod
from services.engine.catalogers.interface import Cataloger, RawPackage
from services.engine.image.interface import OpenedImage
from services.engine.walk import FileHit, Skipped, walk_image


class Analysis(msgspec.Struct, frozen=True, kw_only=True):
    """What the layer walk found in one image."""

    image: ImageInfo
    packages: list[PackageRecord]
    unknowns: list[Unknown]


class _Found(msgspec.Struct, kw_only=True):
    """A visible database file and its raw packages."""

    cataloger: Cataloger
    path: str
    layer_index: int
    packages: list[RawPackage]


class _Collector:
    """Receives hits from the walk thread and keeps only parsed records."""

    def __init__(self, catalogers: Sequence[Cataloger]) -> None:
        self._by_request = {c.request.name: c for c in catalogers}
        self.release_files: dict[str, bytes] = {}
        self.found: list[_Found] = []
        # (path, package key) -> lowest layer index holding that exact package in that file
        self.first_layer: dict[tuple[str, tuple[str, str]], int] = {}
        self.problems: list[tuple[str, int, str]] = []  # (path, layer index, reason)
        self._lock = threading.Lock()

    def on_hit(self, hit: FileHit) -> None:
        if hit.request == distro_mod.REQUEST.name:
            if hit.visible:
                with self._lock:
                    self.release_files[hit.path] = hit.data
            return
        cataloger = self._by_request[hit.request]
        result = cataloger.parse(hit.path, hit.data)
        with self._lock:
            for raw in result.packages:
                key = (hit.path, raw.key())
                prev = self.first_layer.get(key)
                if prev is None or hit.layer_index < prev:
                    self.first_layer[key] = hit.layer_index
            if hit.visible:
                self.found.append(
                    _Found(
                        cataloger=cataloger,
                        path=hit.path,
                        layer_index=hit.layer_index,
                        packages=result.packages,
                    )
                )
                for problem in result.problems:
                    self.problems.append((hit.path, hit.layer_index, problem))

    def on_skip(self, skipped: Skipped) -> None:
        with self._lock:
            self.problems.append((skipped.path, skipped.layer_index, f"{skipped.path}: {skipped.reason}"))


def _layer(layers: Sequence[LayerInfo], index: int) -> LayerInfo | None:
    return layers[index] if 0 <= index < len(layers) else None


async def analyze(image: OpenedImage, catalogers: Sequence[Cataloger]) -> Analysis:
    """Walk ``image`` once and build its package inventory.

    Each package records the layer that introduced it: the lowest layer whose copy of the
    same database file lists the same name and version.
    """
    collector = _Collector(catalogers)
    requests = [distro_mod.REQUEST, *(c.request for c in catalogers)]
    await walk_image(image, requests, collector.on_hit, collector.on_skip)

    distro: Distro | None = distro_mod.detect(collector.release_files)
    layers = image.info.layers
    packages: list[PackageRecord] = []
    for found in sorted(collector.found, key=lambda f: (f.cataloger.name, f.path)):
        for raw in found.packages:
            index = collector.first_layer.get((found.path, raw.key()), found.layer_index)
            pkg = found.cataloger.to_package(raw, distro, "/" + found.path)
            layer = _layer(layers, index)
            if layer is not None:
                pkg = msgspec.structs.replace(
                    pkg, layer_digest=layer.digest, layer_created_by=layer.created_by
                )
            packages.append(pkg)
    packages.sort(key=lambda p: (p.type, p.name, p.version))
    unknowns = [
        Unknown(
            path="/" + path,
            reason=reason,
            layer_digest=(layer.digest if (layer := _layer(layers, index)) is not None else ""),
        )
        for path, index, reason in collector.problems
    ]
    info = msgspec.structs.replace(image.info, distro=distro)
    return Analysis(image=info, packages=packages, unknowns=unknowns)
