"""The engine's settings sections: workers per process, its site, and process isolation."""

from __future__ import annotations

from typing import Annotated

import msgspec


class EngineSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The engine service (``assay service engine``): ``ASSAY_ENGINE_<FIELD>``."""

    concurrency: Annotated[int, msgspec.Meta(ge=1)] = 2  # consumer-group members in one process
    # the cluster whose registries this engine can reach: it then scans only requests routed to that
    # site (ScanRequested.sites) or to none; "" = no restriction, requests of every site
    site: str = ""


class ScanSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How one image is analysed, in ``assay scan`` and the engine alike: ``ASSAY_SCAN_<FIELD>``."""

    # analyse each image in a child process under the budget's limits (services/engine/isolate.py)
    isolation: bool = True
