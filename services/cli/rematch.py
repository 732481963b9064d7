"""``assay rematch [--digest D]``: stored inventories against the current advisory database.

Publishes the resulting ``new``/``changed``/``resolved`` finding events (and alerts) through
the bus to Kafka (``ASSAY_KAFKA_BOOTSTRAP``); reads PostgreSQL (``ASSAY_PG_DSN``) and the newest
advisory build the updater recorded (else the local database, ``ASSAY_DB_PATH``). A full rematch
records the advisory build, so the policy service does not repeat it.
"""

from __future__ import annotations

import sys

from schemas.topics import ALL_TOPICS
from services.common.bus.kafka import KafkaBus
from services.common.config import Settings, kafka_security
from services.common.errors import AssayError, ConfigError, VulnDBError
from services.common.objectstore import object_store_for
from services.common.store.postgres import Store
from services.inventory.aws import AwsClients
from services.policy.app import bus_publisher
from services.policy.catalog import Rulesets, load_rulesets
from services.policy.inventories import Inventories
from services.policy.rematch import ADVISORY_BUILD_KEY, REMATCH_LOCK, rematch
from services.vulndb.builds import open_followed
from services.vulndb.db import VulnDB

__all__ = ["run_rematch"]


async def run_rematch(settings: Settings, *, digest: str | None = None) -> int:
    """Rematch and publish; the exit code (2 on a configuration, database or bus error)."""
    try:
        for value, name in (
            (settings.pg_dsn, "ASSAY_PG_DSN"),
            (settings.kafka_bootstrap, "ASSAY_KAFKA_BOOTSTRAP"),
        ):
            if not value:
                raise ConfigError(f"{name} is not set")
        rulesets = load_rulesets(settings.rulesets_dir)
        store = await Store.connect(settings.pg_dsn)
        try:
            async with AwsClients(settings.aws) as aws:
                # the updater's newest build, else the local database file
                follower = await open_followed(settings, store.builds.latest_announcement, aws, "rematch")
                try:
                    with follower.holder.leased() as current:
                        if current is None:
                            raise VulnDBError(
                                f"no advisory build recorded and no database at {settings.effective_db_path}"
                            )
                        db, build = current
                        inventories = Inventories(store, await object_store_for(settings, aws))
                        count = await _rematch(settings, store, rulesets, db, build, digest, inventories)
                finally:
                    follower.holder.close()
        finally:
            await store.close()
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return 2
    if count is None:
        print("assay: another rematch is running; try again later", file=sys.stderr)
        return 1
    print(f"rematched against advisory build {build}: {count} finding events published")
    return 0


async def _rematch(
    settings: Settings,
    store: Store,
    rulesets: Rulesets,
    db: VulnDB,
    build: str,
    digest: str | None,
    inventories: Inventories,
) -> int | None:
    """Rematch under the rematch lock and publish; None when another rematch holds the lock."""
    bus = KafkaBus(settings.kafka_bootstrap, client_id="assay-rematch", security=kafka_security(settings))
    await bus.start()
    try:
        await bus.ensure_topics(ALL_TOPICS)
        async with store.lifecycle.exclusive(REMATCH_LOCK) as mine:
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
                await store.lifecycle.set_state(ADVISORY_BUILD_KEY, build)
            return count
    finally:
        await bus.stop()
