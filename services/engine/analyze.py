"""From an opened image to its inventory: distribution, packages (with layers) and unknowns.

The one analysis core shared by ``assay scan`` and the engine workers.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from schemas.records import Detection, Distro, ImageInfo, LayerInfo, PackageRecord, Unknown
from services.engine import distro as distro_mod
from services.engine import ownership
from services.engine.budget import BudgetExceeded, ScanBudget
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.meter import Meter
from services.engine.content.cache import verified_hook
from services.engine.content.interface import ContentAnalyzer
from services.engine.declared import filter_declared
from services.engine.image.interface import OpenedImage
from services.engine.licenses import dpkg_copyright
from services.engine.licenses.normalize import normalize_all
from services.engine.walk import FileHit, Skipped, walk_image


class Analysis(msgspec.Struct, frozen=True, kw_only=True):
    """What the layer walk found in one image."""

    image: ImageInfo
    packages: list[PackageRecord]
    unknowns: list[Unknown]
    detections: list[Detection] = []


class _Found(msgspec.Struct, kw_only=True):
    """A visible database file and its raw packages."""

    cataloger: Cataloger
    path: str
    layer_index: int
    packages: list[RawPackage]


class _Collector:
    """Receives hits from the walk thread and keeps only parsed records."""

    def __init__(
        self, catalogers: Sequence[Cataloger], analyzers: Sequence[ContentAnalyzer], budget: ScanBudget
    ) -> None:
        self._budget = budget
        meter = Meter(budget)  # per-image totals, shared by the parsers of every file
        self._by_request = {c.request.name: with_budget(c, budget, meter) for c in catalogers}
        self._analyzers = tuple(analyzers)
        self._analyzer_for = {r.name: a for a in analyzers for r in a.requests}
        self._content_requests = {r.name: r for a in analyzers for r in a.requests}
        self.detections: list[tuple[int, str, Detection]] = []  # (layer index, analyzer, detection)
        self.owners = ownership.OwnershipIndex()  # dpkg file lists go in as they arrive, compactly
        self.dpkg_licenses: dict[str, list[str]] = {}  # dpkg package name -> DEP-5 license names
        self.release_files: dict[str, bytes] = {}
        self.found: list[_Found] = []
        # (path, package key) -> lowest layer index holding that exact package in that file
        self.first_layer: dict[tuple[str, tuple[str, str]], int] = {}
        # (path, layer index, reason): the first ``unknowns_max`` only, the rest counted
        self.problems: list[tuple[str, int, str]] = []
        self.problems_dropped = 0
        self._lock = threading.Lock()

    def on_hit(self, hit: FileHit) -> None:
        if hit.request == distro_mod.REQUEST.name:
            if hit.visible:
                # distroless status.d files count by name only: keeping their bytes (up to 1 MiB
                # each, .md5sums lists included) cost 4 GiB for 4,000 of them
                kept = hit.data if hit.path in distro_mod.RELEASE_FILES else b""
                with self._lock:
                    self.release_files[hit.path] = kept
            return
        if hit.request == dpkg_copyright.REQUEST.name:
            if hit.visible and self._over_budget(hit) is None:
                names = dpkg_copyright.parse_copyright(hit.data)
                with self._lock:
                    self.dpkg_licenses[dpkg_copyright.copyright_package(hit.path)] = names
            return
        if hit.request == ownership.REQUEST.name:
            if hit.visible and (problem := self._over_budget(hit)) is not None:
                with self._lock:
                    self.problem(hit.path, hit.layer_index, problem)
            elif hit.visible:
                paths = ownership.iter_dpkg_list(hit.path, hit.data)
                with self._lock:
                    self.owners.add_pending(paths, ownership.dpkg_list_package(hit.path))
            return
        analyzer = self._analyzer_for.get(hit.request)
        if analyzer is not None:
            self._scan(analyzer, hit)
            return
        cataloger = self._by_request[hit.request]
        result = self._parse(cataloger, hit)
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
                    self.problem(hit.path, hit.layer_index, problem)

    def problem(self, path: str, layer_index: int, reason: str) -> None:
        """Record one unknown (the caller holds the lock); past the budget it is only counted."""
        if len(self.problems) < self._budget.unknowns_max:
            self.problems.append((path, layer_index, reason))
        else:
            self.problems_dropped += 1

    def _over_budget(self, hit: FileHit) -> str | None:
        """The problem when a file handed over as bytes is larger than a parser may be given."""
        limit = self._budget.parsed_file_bytes_max
        if hit.file is None and len(hit.data) > limit:
            return str(BudgetExceeded("parsed_file_bytes_max", limit, f"{hit.path} ({len(hit.data)} bytes)"))
        return None

    def _parse(self, cataloger: Cataloger, hit: FileHit) -> ParseResult:
        """The cataloger's result; a parser bug becomes an unknown for this file, not a failed scan."""
        if (problem := self._over_budget(hit)) is not None:
            return ParseResult(problems=[problem])
        try:
            if hit.file is not None:
                if cataloger.parse_stream is None:
                    reason = f"{hit.path}: cataloger {cataloger.name} cannot read a stream"
                    return ParseResult(problems=[reason])
                return cataloger.parse_stream(hit.path, hit.file)
            return cataloger.parse(hit.path, hit.data)
        except Exception as exc:
            return ParseResult(problems=[f"{hit.path}: {cataloger.name} failed: {type(exc).__name__}: {exc}"])

    def _scan(self, analyzer: ContentAnalyzer, hit: FileHit) -> None:
        try:
            found = analyzer.scan_file(hit)
        except Exception as exc:  # an analyzer bug must not lose the rest of the scan
            reason = f"{hit.path}: {analyzer.name} failed: {exc}"
            with self._lock:
                self.problem(hit.path, hit.layer_index, reason)
            return
        placed = [msgspec.structs.replace(d, path="/" + hit.path, deleted=not hit.visible) for d in found]
        with self._lock:
            self.detections.extend((hit.layer_index, analyzer.name, d) for d in placed)

    def excluded(self, layer_count: int) -> dict[int, frozenset[str]]:
        """Per layer, the requests of analyzers whose results for it are cached: the walk skips them."""
        out: dict[int, frozenset[str]] = {}
        for index in range(layer_count):
            names = frozenset(
                r.name for a in self._analyzers if a.cached_results(index) is not None for r in a.requests
            )
            if names:
                out[index] = names
        return out

    def on_layer(self, layer_index: int, hidden: Callable[[str], bool]) -> None:
        """Place the cached detections of this layer as the walk would have delivered their files.

        A file's copy counts as deleted when the layers above hide it; a request that does not
        want hidden copies would never have seen it.
        """
        placed: list[tuple[int, str, Detection]] = []
        for analyzer in self._analyzers:
            cached = analyzer.cached_results(layer_index)
            if not cached:
                continue
            for where, found in cached.items():
                name, _, path = where.partition(":")
                req = self._content_requests.get(name)
                if req is None or not found:
                    continue
                gone = hidden(path)
                if gone and not req.shadowed:
                    continue
                placed.extend(
                    (layer_index, analyzer.name, msgspec.structs.replace(d, path="/" + path, deleted=gone))
                    for d in found
                )
        if placed:
            with self._lock:
                self.detections.extend(placed)

    def on_skip(self, skipped: Skipped) -> None:
        with self._lock:
            self.problem(skipped.path, skipped.layer_index, f"{skipped.path}: {skipped.reason}")


def _layer(layers: Sequence[LayerInfo], index: int) -> LayerInfo | None:
    return layers[index] if 0 <= index < len(layers) else None


def _bind(parse: Callable[..., ParseResult], budget: ScanBudget, meter: Meter) -> Callable[..., ParseResult]:
    wanted = inspect.signature(parse).parameters
    given: dict[str, Any] = {"budget": budget, "meter": meter}
    keywords = {name: value for name, value in given.items() if name in wanted}
    return functools.partial(parse, **keywords) if keywords else parse


def with_budget(cataloger: Cataloger, budget: ScanBudget, meter: Meter | None = None) -> Cataloger:
    """The cataloger with the scan's budget (and per-image ``Meter``) bound to its parsers.

    A parser opts in by accepting a keyword ``budget: ScanBudget`` and/or ``meter: Meter``
    (with defaults, so that direct callers keep working); the others are called as they are.
    """
    meter = meter if meter is not None else Meter(budget)
    changes: dict[str, Any] = {}
    parse = _bind(cataloger.parse, budget, meter)
    if parse is not cataloger.parse:
        changes["parse"] = parse
    if cataloger.parse_stream is not None:
        stream = _bind(cataloger.parse_stream, budget, meter)
        if stream is not cataloger.parse_stream:
            changes["parse_stream"] = stream
    return msgspec.structs.replace(cataloger, **changes) if changes else cataloger


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
    collector: _Collector, distro: Distro | None, layers: Sequence[LayerInfo]
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
            if pkg.type == "deb" and not pkg.licenses and collector.dpkg_licenses.get(pkg.name):
                pkg = msgspec.structs.replace(pkg, licenses=collector.dpkg_licenses[pkg.name])
            if pkg.licenses and not pkg.license_expression:
                pkg = msgspec.structs.replace(pkg, license_expression=normalize_all(pkg.licenses))
            if pkg.type in ownership.OS_PACKAGE_TYPES:
                owners.add(raw.files, pkg.purl)
                if pkg.type == "deb":
                    owners.bind(pkg.name, pkg.purl)
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
    collector = _Collector(catalogers, analyzers, budget)
    requests = [
        distro_mod.REQUEST,
        ownership.REQUEST,
        dpkg_copyright.REQUEST,
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
    packages = _packages(collector, distro, layers)
    packages = [
        msgspec.structs.replace(pkg, owner=owner)
        if pkg.type not in ownership.OS_PACKAGE_TYPES
        and not pkg.owner
        and (owner := owners.owner_of_locations(pkg.locations)) is not None
        else pkg
        for pkg in packages
    ]
    if image.local_root() is None:  # a directory scan reports every lockfile it was pointed at
        packages = filter_declared(packages)
    packages.sort(key=lambda p: (p.type, p.name, p.version))
    if owners.dropped:
        reason = (
            f"{owners.dropped} file lists cut short: over {ownership.OWNED_PATHS_MAX} owned paths per image"
        )
        collector.problem("var/lib/dpkg/info", -1, reason)
    unknowns = _unknowns(collector.problems, collector.problems_dropped, layers, budget.unknowns_max)
    info = msgspec.structs.replace(shown, distro=distro)
    by_analyzer: dict[str, list[Detection]] = {a.name: [] for a in analyzers}
    for index, name, d in collector.detections:
        layer = _layer(layers, index)
        by_analyzer[name].append(msgspec.structs.replace(d, layer_digest=layer.digest) if layer else d)
    detections: list[Detection] = []
    for analyzer in analyzers:
        detections.extend(analyzer.finish(by_analyzer[analyzer.name], owners))
    for analyzer in analyzers:
        detections.extend(analyzer.scan_image(info, image.config))
        detections.extend(analyzer.scan_packages(packages))
    detections.sort(key=lambda d: (d.category, d.rule_id, d.path, d.layer_digest))
    return Analysis(image=info, packages=packages, unknowns=unknowns, detections=detections)
