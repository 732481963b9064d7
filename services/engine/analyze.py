"""From an opened image to its inventory: distribution, packages (with layers) and unknowns.

The one analysis core shared by ``assay scan`` and the engine workers: the walk's hits go to a
``Collector`` (``collector.py``), whose results become packages, unknowns and detections here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from schemas.records import Detection, Distro, ImageInfo, LayerInfo, PackageRecord, Unknown
from services.engine import distro as distro_mod
from services.engine import ownership
from services.engine.budget import BudgetExceeded, ScanBudget
from services.engine.catalogers.interface import Cataloger
from services.engine.collector import Collector, with_budget
from services.engine.content.cache import verified_hook
from services.engine.content.interface import ContentAnalyzer
from services.engine.declared import filter_declared
from services.engine.image.interface import OpenedImage
from services.engine.licenses.normalize import normalize_all
from services.engine.walk import walk_image

__all__ = ["Analysis", "analyze", "with_budget"]


class Analysis(msgspec.Struct, frozen=True, kw_only=True):
    """What the layer walk found in one image."""

    image: ImageInfo
    packages: list[PackageRecord]
    unknowns: list[Unknown]
    detections: list[Detection] = []


def _layer(layers: Sequence[LayerInfo], index: int) -> LayerInfo | None:
    return layers[index] if 0 <= index < len(layers) else None


def _unknowns(
    problems: Sequence[tuple[str, int, str]], dropped: int, layers: Sequence[LayerInfo], limit: int
) -> list[Unknown]:
    """One unknown per kept problem; when some were dropped, one summary line counts them."""
    out = [
        Unknown(
            path="/" + path,
            reason=reason,
            layer_digest=(layer.digest if (layer := _layer(layers, index)) is not None else ""),
        )
        for path, index, reason in problems
    ]
    if dropped:
        out.append(
            Unknown(
                path="/",
                reason=str(BudgetExceeded("unknowns_max", limit, f"{dropped} more unknowns not listed")),
            )
        )
    return out


def _packages(
    collector: Collector, distro: Distro | None, layers: Sequence[LayerInfo]
) -> list[PackageRecord]:
    """The found raw packages as records, with layer, licences and OS ownership filled in."""
    owners = collector.owners
    packages: list[PackageRecord] = []
    for found in sorted(collector.found, key=lambda f: (f.cataloger.name, f.path)):
        for raw in found.packages:
            index = collector.first_layer.get((found.path, raw.key()), found.layer_index)
            pkg = found.cataloger.to_package(raw, distro, "/" + found.path)
            if not pkg.found_by:
                pkg = msgspec.structs.replace(pkg, found_by=found.cataloger.name)
            layer = _layer(layers, index)
            if layer is not None:
                pkg = msgspec.structs.replace(
                    pkg, layer_digest=layer.digest, layer_created_by=layer.created_by
                )
            if not pkg.licenses and (declared := collector.declared_licenses(found.cataloger, pkg.name)):
                pkg = msgspec.structs.replace(pkg, licenses=declared)
            if pkg.licenses and not pkg.license_expression:
                pkg = msgspec.structs.replace(pkg, license_expression=normalize_all(pkg.licenses))
            if pkg.type in ownership.OS_PACKAGE_TYPES:
                dropped = owners.dropped
                owners.add(raw.files, pkg.purl)
                if owners.dropped > dropped and not collector.cut_short:
                    collector.cut_short = found.path
                for companion in found.cataloger.companions:
                    if companion.files is not None:
                        owners.bind(f"{companion.request.name}:{pkg.name}", pkg.purl)
            packages.append(pkg)
    return packages


async def analyze(
    image: OpenedImage,
    catalogers: Sequence[Cataloger],
    analyzers: Sequence[ContentAnalyzer] = (),
    budget: ScanBudget | None = None,
) -> Analysis:
    """Walk ``image`` once: build its package inventory and run the content analyzers.

    Each package records the layer that introduced it: the lowest layer whose copy of the
    same database file lists the same name and version. ``budget`` bounds what parsers may
    be handed and how many unknowns are listed (the defaults of ``ScanBudget`` if None).
    """
    budget = budget if budget is not None else ScanBudget()
    collector = Collector(catalogers, analyzers, budget)
    requests = [
        distro_mod.REQUEST,
        *(m.request for m in collector.companions.values()),
        *(c.request for c in catalogers),
        *(r for a in analyzers for r in a.requests),
    ]
    await walk_image(
        image,
        requests,
        collector.on_hit,
        collector.on_skip,
        excluded=collector.excluded(len(image.info.layers)),
        on_layer=collector.on_layer,
        on_verified=verified_hook(analyzers),  # the layer cache stores verified layers only
        budget=budget,
    )

    distro: Distro | None = distro_mod.detect(collector.release_files)
    shown = image.info
    for analyzer in analyzers:  # secrets in env, labels and history lines are only ever shown redacted
        shown = analyzer.redact_image(shown)
    layers = shown.layers
    owners = collector.owners
    packages = _with_owners(_packages(collector, distro, layers), owners)
    shadowed = {c.name for c in catalogers if c.shadowed_by_os}
    packages = [
        p for p in packages if not (p.found_by in shadowed and owners.owner_across_usr_merge(p.locations))
    ]
    if image.local_root() is None:  # a directory scan reports every lockfile it was pointed at
        packages = filter_declared(packages)
    packages.sort(key=lambda p: (p.type, p.name, p.version))
    if owners.dropped:
        reason = (
            f"{owners.dropped} file lists cut short: over {ownership.OWNED_PATHS_MAX} owned paths per image"
        )
        collector.problem(collector.cut_short, -1, reason)
    unknowns = _unknowns(collector.problems, collector.problems_dropped, layers, budget.unknowns_max)
    info = msgspec.structs.replace(shown, distro=distro)
    detections = _detections(collector, analyzers, info, image.config, packages)
    return Analysis(image=info, packages=packages, unknowns=unknowns, detections=detections)


def _with_owners(packages: list[PackageRecord], owners: ownership.OwnershipIndex) -> list[PackageRecord]:
    """Language packages whose files an OS package installed, marked as owned by it."""
    return [
        msgspec.structs.replace(pkg, owner=owner)
        if pkg.type not in ownership.OS_PACKAGE_TYPES
        and not pkg.owner
        and (owner := owners.owner_of_locations(pkg.locations)) is not None
        else pkg
        for pkg in packages
    ]


def _detections(
    collector: Collector,
    analyzers: Sequence[ContentAnalyzer],
    info: ImageInfo,
    config: dict[str, Any],
    packages: Sequence[PackageRecord],
) -> list[Detection]:
    """Every analyzer's detections: its files' (placed in their layers), the image's and the packages'."""
    by_analyzer: dict[str, list[Detection]] = {a.name: [] for a in analyzers}
    for index, name, d in collector.detections:
        layer = _layer(info.layers, index)
        by_analyzer[name].append(msgspec.structs.replace(d, layer_digest=layer.digest) if layer else d)
    detections: list[Detection] = []
    for analyzer in analyzers:
        detections.extend(analyzer.finish(by_analyzer[analyzer.name], collector.owners))
    for analyzer in analyzers:
        detections.extend(analyzer.scan_image(info, config))
        detections.extend(analyzer.scan_packages(packages))
    detections.sort(key=lambda d: (d.category, d.rule_id, d.path, d.layer_digest))
    return detections
