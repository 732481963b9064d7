"""What the layer walk hands the analysis: parsed package databases, companion facts, detections.

``Collector`` receives the walk's hits (from the walk thread, under a lock) and keeps only
parsed results: each cataloger's raw packages with the lowest layer that lists them, the
companion files' owned paths and declared licenses, the content analyzers' detections and the
problems that become unknowns. ``analyze.py`` turns them into the image's ``Analysis``.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from schemas.records import Detection
from services.engine import distro as distro_mod
from services.engine import ownership
from services.engine.budget import BudgetExceeded, ScanBudget
from services.engine.catalogers.interface import Cataloger, Companion, ParseResult, RawPackage
from services.engine.catalogers.meter import Meter
from services.engine.content.interface import ContentAnalyzer
from services.engine.walk import FileHit, Skipped

__all__ = ["Collector", "Found", "with_budget"]


class Found(msgspec.Struct, kw_only=True):
    """A visible database file and its raw packages."""

    cataloger: Cataloger
    path: str
    layer_index: int
    packages: list[RawPackage]


class Collector:
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
        # files beside a database (dpkg's file lists and copyright files), by request name
        self.companions = {m.request.name: m for c in catalogers for m in c.companions}
        self.owners = ownership.OwnershipIndex()  # companion file lists go in as they arrive, compactly
        self.cut_short = ""  # where the ownership index first filled up (a directory or database)
        self.licenses: dict[str, list[str]] = {}  # "<companion request>:<package>" -> declared licenses
        self.release_files: dict[str, bytes] = {}
        self.found: list[Found] = []
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
        companion = self.companions.get(hit.request)
        if companion is not None:
            if hit.visible:
                self._companion(companion, hit)
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
                    Found(
                        cataloger=cataloger,
                        path=hit.path,
                        layer_index=hit.layer_index,
                        packages=result.packages,
                    )
                )
                for problem in result.problems:
                    self.problem(hit.path, hit.layer_index, problem)

    def _companion(self, companion: Companion, hit: FileHit) -> None:
        """A visible companion file: the paths it owns or the licenses it declares, under its package."""
        problem = self._over_budget(hit)
        key = f"{companion.request.name}:{companion.package(hit.path)}"
        if companion.files is not None:
            if problem is not None:
                with self._lock:
                    self.problem(hit.path, hit.layer_index, problem)
                return
            paths = companion.files(hit.path, hit.data)
            with self._lock:
                dropped = self.owners.dropped
                self.owners.add_pending(paths, key)
                if self.owners.dropped > dropped and not self.cut_short:
                    self.cut_short = hit.path.rsplit("/", 1)[0]
        if companion.licenses is not None and problem is None:
            names = companion.licenses(hit.data)
            with self._lock:
                self.licenses[key] = names

    def declared_licenses(self, cataloger: Cataloger, name: str) -> list[str]:
        """The licenses a companion file of ``cataloger`` declares for the package ``name``."""
        for companion in cataloger.companions:
            if companion.licenses is not None and (
                found := self.licenses.get(f"{companion.request.name}:{name}")
            ):
                return found
        return []

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
