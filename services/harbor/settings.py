"""Harbor's scanner adapter settings (``assay service harbor``): ``ASSAY_HARBOR_<FIELD>``."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.common.hostport import HostPort


class HarborConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Where the adapter listens, the key Harbor sends, and how many scans it keeps."""

    listen: HostPort = "127.0.0.1:8090"  # HOST:PORT Harbor's scanner registration points at
    api_key: str = ""  # when set, Harbor must send it (Authorization: Bearer KEY); "" = no key asked
    concurrency: Annotated[int, msgspec.Meta(ge=1)] = 1  # scans at once in this process
    max_jobs: Annotated[int, msgspec.Meta(ge=1)] = 1000  # accepted scans kept (running, or finished)
    report_ttl_s: Annotated[float, msgspec.Meta(gt=0)] = 3600.0  # a finished report waits this long
