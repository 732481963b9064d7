"""``assay feeds update``: load threat feeds of malicious URLs, domains and IPs for the netioc analyzer."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from services.common.config import Settings
from services.common.errors import AssayError
from services.engine.content.netioc.store import update_feeds


async def run_feeds_update(settings: Settings, sources: Sequence[str]) -> int:
    """Fetch, parse and store every feed; print what each listed and what it could not read."""
    out = settings.effective_feeds_path
    try:
        feeds = await update_feeds(sources, out)
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return 2
    for feed in feeds:
        counts = f"{len(feed.urls)} URLs, {len(feed.domains)} domains, {len(feed.networks)} networks"
        print(f"{feed.name}: {counts}")
        for problem in feed.problems:
            print(f"assay: warning: {problem}", file=sys.stderr)
    print(f"stored {len(feeds)} feed(s) in {out}")
    return 0
