"""What a content analyzer is: the files it wants and a pure scan of each one.

Content analyzers (secrets, malware, URLs and IPs, insecure content, licenses) ride the
same single layer walk as the catalogers. ``scan_file`` runs in the walk thread for each
requested file, including copies a later layer deleted or replaced when the request
asks for shadowed files; ``scan_image`` sees the image config once.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from schemas.records import Detection, ImageInfo, PackageRecord
from services.engine.ownership import OwnershipIndex
from services.engine.requests import FileRequest
from services.engine.walk import FileHit


class ContentAnalyzer(abc.ABC):
    """One kind of content check. Instances are built once per worker from typed settings."""

    name: str
    version: str  # part of the per-layer cache key: bump when results would change

    def fingerprint(self) -> str:
        """What else changes results (a ruleset hash, result-changing settings): part of the cache key."""
        return ""

    @property
    @abc.abstractmethod
    def requests(self) -> Sequence[FileRequest]:
        """The files this analyzer reads; request names must be unique across the engine."""

    @abc.abstractmethod
    def scan_file(self, hit: FileHit) -> list[Detection]:
        """Detections in one file. ``path`` and ``layer_digest`` are filled in by the caller."""

    def cached_results(self, layer_index: int) -> Mapping[str, Sequence[Detection]] | None:
        """This layer's file detections already known (from the layer cache), by ``request:path``.

        None (the default): the layer's files are scanned. Otherwise the walk hands this
        analyzer nothing from that layer and the caller places these detections instead.
        """
        return None

    def scan_image(self, image: ImageInfo, config: dict[str, Any]) -> list[Detection]:
        """Detections in the image config (env, labels, history, user). None by default."""
        return []

    def redact_image(self, image: ImageInfo) -> ImageInfo:
        """``image`` with anything this analyzer must never show (secrets in env, labels, history)
        replaced by its redacted form; the report and the wire carry this copy. Unchanged by default."""
        return image

    def scan_packages(self, packages: Sequence[PackageRecord]) -> list[Detection]:
        """Detections over the finished inventory (licenses). None by default."""
        return []

    def finish(self, detections: list[Detection], owners: OwnershipIndex) -> list[Detection]:
        """This analyzer's file detections once the walk is over, to filter or amend.

        ``owners`` says which OS package installed a path (e.g. a setuid file that dpkg
        installed is expected). Keeps everything by default.
        """
        return detections
