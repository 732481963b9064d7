"""Per-layer result cache for content analyzers.

A layer's detections depend only on the layer's bytes and on the analyzer, so they are
cached under (layer ``diff_id``, analyzer name, version, fingerprint). The fingerprint
hashes the ruleset and the settings that change results (size cap, allowlists); bumping
``version`` or editing a rules file makes old entries unreachable.

**Verified digests only.** The ``diff_id`` comes from the image's config, which whoever
pushed the image wrote: a malicious layer could claim a clean layer's ``diff_id``. So the
walk hashes every layer's uncompressed stream and fails the image on a mismatch (naming
image, layer, claimed and actual digest), and ``commit`` stores only the layers the walk
reported verified (``verified_hook``). A lookup made before the walk (to skip reading a
cached layer's files) only contributes to a scan that completes, and a scan completes only
if every layer verified: a lying layer gets neither the clean layer's results nor a chance
to store its own under that key.

For this to hold, a cached analyzer's ``scan_file`` must not depend on visibility: its
requests ask for shadowed copies too, and whether a later layer deleted a file is applied
afterwards (``Detection.deleted`` from the walk, filtering in ``finish``). On a cached
layer the walk still streams the layer (catalogers need it) but hands the analyzer none of
its files (``cached_results``): they are not even read. The cached detections are placed
by path, with ``deleted`` from what the layers above hide, exactly as a scan would have.

Backends are a small interface: a local directory here (``assay scan``), PostgreSQL or S3
later for the pipeline. A backend that cannot read or write is a cache miss, never a
failed scan.
"""

from __future__ import annotations

import abc
import hashlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from schemas.records import Detection, ImageInfo, LayerInfo, PackageRecord
from services.common.files import write_atomic
from services.engine.content.interface import ContentAnalyzer
from services.engine.ownership import OwnershipIndex
from services.engine.requests import FileRequest
from services.engine.walk import FileHit

log = logging.getLogger(__name__)

SCHEMA = "assay.layer-cache/v1"


class LayerResults(msgspec.Struct, frozen=True, kw_only=True):
    """One analyzer's detections in one layer, by ``request:path``."""

    schema: str = SCHEMA
    diff_id: str
    analyzer: str
    version: str
    fingerprint: str = ""
    files: dict[str, list[Detection]] = {}


_decoder = msgspec.json.Decoder(LayerResults)


class CacheBackend(abc.ABC):
    """Where cached layer results live: bytes by key. Failures are misses, not errors."""

    @abc.abstractmethod
    def get(self, key: str) -> bytes | None:
        """The stored value, or None when absent or unreadable."""

    @abc.abstractmethod
    def put(self, key: str, value: bytes) -> None:
        """Store a value; a failure is logged and forgotten."""


class DirectoryBackend(CacheBackend):
    """One file per key under ``root/<2 hex>/<key>.json``, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except OSError:
            return None

    def put(self, key: str, value: bytes) -> None:
        path = self._path(key)
        try:
            write_atomic(path, value)
        except OSError as exc:
            log.warning("layer cache: cannot write %s: %s", path, exc)


class MemoryBackend(CacheBackend):
    """A dict: for tests and for one process's lifetime."""

    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.items.get(key)

    def put(self, key: str, value: bytes) -> None:
        self.items[key] = value


def cache_key(diff_id: str, analyzer: ContentAnalyzer) -> str:
    """The key of one analyzer's results for one layer."""
    material = "\x1f".join((diff_id, analyzer.name, analyzer.version, analyzer.fingerprint()))
    return hashlib.sha256(material.encode()).hexdigest()


class CachedAnalyzer(ContentAnalyzer):
    """One analyzer bound to one image: cached layers' results come from the cache (the walk hands
    this analyzer none of their files, see ``cached_results``); the rest are scanned and recorded."""

    def __init__(self, inner: ContentAnalyzer, backend: CacheBackend, layers: Sequence[LayerInfo]) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self._backend = backend
        self._keys: dict[int, str] = {}
        self._cached: dict[int, dict[str, list[Detection]]] = {}
        for index, layer in enumerate(layers):
            if not layer.diff_id:
                continue
            key = cache_key(layer.diff_id, inner)
            self._keys[index] = key
            results = self._load(key, layer.diff_id)
            if results is not None:
                self._cached[index] = results.files
        self._fresh: dict[int, dict[str, list[Detection]]] = {}
        self._failed: set[int] = set()
        self._verified: set[int] = set()  # layers whose content the walk hashed and matched to diff_id
        self._lock = threading.Lock()
        self.hits = len(self._cached)

    def _load(self, key: str, diff_id: str) -> LayerResults | None:
        raw = self._backend.get(key)
        if raw is None:
            return None
        try:
            results = _decoder.decode(raw)
        except msgspec.DecodeError:
            return None
        ok = results.diff_id == diff_id and results.analyzer == self.name and results.version == self.version
        return results if ok else None

    @property
    def requests(self) -> Sequence[FileRequest]:
        return self.inner.requests

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def layer_verified(self, layer_index: int, diff_id: str) -> None:
        """The walk hashed layer ``layer_index`` to the end and it matched ``diff_id``."""
        key = self._keys.get(layer_index)
        if key is not None and key == cache_key(diff_id, self.inner):
            with self._lock:
                self._verified.add(layer_index)

    def cached_results(self, layer_index: int) -> Mapping[str, Sequence[Detection]] | None:
        """The layer's cached detections: the walk then hands this analyzer none of its files."""
        return self._cached.get(layer_index)

    def scan_file(self, hit: FileHit) -> list[Detection]:
        where = f"{hit.request}:{hit.path}"
        try:
            found = self.inner.scan_file(hit)
        except Exception:
            with self._lock:
                self._failed.add(hit.layer_index)
            raise
        if found:
            with self._lock:
                self._fresh.setdefault(hit.layer_index, {}).setdefault(where, []).extend(found)
        return found

    def scan_image(self, image: ImageInfo, config: dict[str, Any]) -> list[Detection]:
        return self.inner.scan_image(image, config)

    def scan_packages(self, packages: Sequence[PackageRecord]) -> list[Detection]:
        return self.inner.scan_packages(packages)

    def redact_image(self, image: ImageInfo) -> ImageInfo:
        return self.inner.redact_image(image)

    def finish(self, detections: list[Detection], owners: OwnershipIndex) -> list[Detection]:
        return self.inner.finish(detections, owners)

    def commit(self, layers: Sequence[LayerInfo]) -> int:
        """Store every layer scanned in full and verified this time; the number of layers written."""
        written = 0
        for index, key in self._keys.items():
            if index in self._cached or index in self._failed or index not in self._verified:
                continue
            results = LayerResults(
                diff_id=layers[index].diff_id,
                analyzer=self.name,
                version=self.version,
                fingerprint=self.inner.fingerprint(),
                files=self._fresh.get(index, {}),
            )
            self._backend.put(key, msgspec.json.encode(results))
            written += 1
        return written


def verified_hook(analyzers: Sequence[ContentAnalyzer]) -> Callable[[int, str], None]:
    """The walk's ``on_verified``: tells every cache-wrapped analyzer which layers verified."""
    cached = [a for a in analyzers if isinstance(a, CachedAnalyzer)]

    def on_verified(layer_index: int, diff_id: str) -> None:
        for analyzer in cached:
            analyzer.layer_verified(layer_index, diff_id)

    return on_verified


class LayerCache:
    """Binds analyzers to one image's layers, then stores what the scan found."""

    def __init__(self, backend: CacheBackend) -> None:
        self.backend = backend

    def bind(self, analyzers: Sequence[ContentAnalyzer], layers: Sequence[LayerInfo]) -> BoundScan:
        """Wrap each analyzer for one image; call ``commit`` on the result after a successful scan."""
        return BoundScan([CachedAnalyzer(a, self.backend, layers) for a in analyzers], layers)


class BoundScan:
    """The analyzers of one scan, wrapped for the cache (or not, when it is off)."""

    def __init__(self, analyzers: Sequence[ContentAnalyzer], layers: Sequence[LayerInfo]) -> None:
        self.analyzers: list[ContentAnalyzer] = list(analyzers)
        self._layers = list(layers)

    @property
    def cached_layers(self) -> int:
        """Analyzer-layer pairs answered from the cache."""
        return sum(a.hits for a in self.analyzers if isinstance(a, CachedAnalyzer))

    def commit(self) -> int:
        """Store the fresh results of every cached analyzer; the number of entries written."""
        return sum(a.commit(self._layers) for a in self.analyzers if isinstance(a, CachedAnalyzer))


__all__ = [
    "BoundScan",
    "CacheBackend",
    "CachedAnalyzer",
    "DirectoryBackend",
    "LayerCache",
    "LayerResults",
    "MemoryBackend",
    "cache_key",
    "verified_hook",
]
