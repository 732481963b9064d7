"""``assay feeds update``: load threat feeds of malicious URLs, domains and IPs for the netioc analyzer.

Feeds merge into the store by name; the summary lists every stored feed, and says so when
none is stored (URL/IP analysis then finds nothing).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from services.common.errors import AssayError
from services.engine.content.netioc.store import NO_FEEDS, read_store, update_feeds

if TYPE_CHECKING:
    from services.settings import Settings


async def run_feeds_update(settings: Settings, sources: Sequence[str]) -> int:
    """Fetch, parse and store every feed; print what each listed and what it could not read."""
    out = settings.effective_feeds_path
    try:
        feeds = await update_feeds(sources, out)
        stored = read_store(out)
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return 2
    for feed in feeds:
        counts = f"{len(feed.urls)} URLs, {len(feed.domains)} domains, {len(feed.networks)} networks"
        print(f"{feed.name}: {counts}")
        for problem in feed.problems:
            print(f"assay: warning: {problem}", file=sys.stderr)
    kept = [f.name for f in stored if f.name not in {g.name for g in feeds}]
    print(
        f"updated {len(feeds)} feed(s); {len(stored)} stored in {out}"
        + (f" (also {', '.join(kept)})" if kept else "")
    )
    if not any(f.urls or f.domains or f.networks for f in stored):
        print(f"assay: note: {NO_FEEDS.format(out)}", file=sys.stderr)
    return 0
