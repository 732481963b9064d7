"""``assay rematch [--digest D]``: stored inventories against the current advisory database.

Publishes the resulting ``new``/``changed``/``resolved`` finding events (and alerts) through
the bus to Kafka (``ASSAY_KAFKA_BOOTSTRAP``); reads PostgreSQL (``ASSAY_PG_DSN``) and the newest
advisory build the updater recorded (else the local database, ``ASSAY_DB_PATH``). A full rematch
records the advisory build, so the policy service does not repeat it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from services.common.errors import AssayError, VulnDBError
from services.common.lifespan import Needs, Resources, lifespan
from services.policy.app import bus_publisher
from services.policy.catalog import Rulesets, load_rulesets
from services.policy.inventories import Inventories
from services.policy.rematch import ADVISORY_BUILD_KEY, REMATCH_LOCK, rematch
from services.policy.store import Lifecycle
from services.vulndb.builds import open_followed
from services.vulndb.db import VulnDB

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["run_rematch"]


async def run_rematch(settings: Settings, *, digest: str | None = None) -> int:
    """Rematch and publish; the exit code (2 on a configuration, database or bus error)."""
    try:
        rulesets = load_rulesets(settings.rulesets.dir)
        async with lifespan(settings, "rematch", Needs()) as resources:
            store = resources.need_store()
            # the updater's newest build, else the local database file
            follower = await open_followed(
                settings, store.builds.latest_announcement, resources.aws, "rematch"
            )
            try:
                with follower.holder.leased() as current:
                    if current is None:
                        raise VulnDBError(
                            f"no advisory build recorded and no database at {settings.effective_db_path}"
                        )
                    db, build = current
                    inventories = Inventories(store, resources.objects)
                    count = await _rematch(resources, rulesets, db, build, digest, inventories)
            finally:
                follower.holder.close()
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return 2
    if count is None:
        print("assay: another rematch is running; try again later", file=sys.stderr)
        return 1
    print(f"rematched against advisory build {build}: {count} finding events published")
    return 0


async def _rematch(
    resources: Resources[Settings],
    rulesets: Rulesets,
    db: VulnDB,
    build: str,
    digest: str | None,
    inventories: Inventories,
) -> int | None:
    """Rematch under the rematch lock and publish; None when another rematch holds the lock."""
    store, bus = resources.need_store(), resources.need_bus()
    async with store.exclusive(REMATCH_LOCK) as mine:
        if not mine:
            return None
        count = await rematch(
            store,
            rulesets,
            db,
            publish=bus_publisher(bus),
            digest=digest,
            inventories=inventories,
            build=build,
        )
        if digest is None:
            await Lifecycle(store.pool).set_state(ADVISORY_BUILD_KEY, build)
        return count
