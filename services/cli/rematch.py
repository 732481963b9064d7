"""``assay rematch [--digest D]``: stored inventories against the current advisory database.

Publishes the resulting ``new``/``changed``/``resolved`` finding events (and alerts) through
the bus to Kafka (``ASSAY_KAFKA_BOOTSTRAP``); reads PostgreSQL (``ASSAY_PG_DSN``) and the
advisory database (``ASSAY_DB_PATH``). A full rematch records the advisory build, so the policy
service's watcher does not repeat it.
"""

from __future__ import annotations

import sys

from schemas.topics import ALL_TOPICS
from services.common.bus.kafka import KafkaBus
from services.common.config import Settings, kafka_security
from services.common.errors import AssayError, ConfigError
from services.common.objectstore import object_store_for
from services.common.store.postgres import Store
from services.inventory.aws import AwsClients
from services.policy.app import bus_publisher
from services.policy.catalog import load_rulesets
from services.policy.inventories import Inventories
from services.policy.rematch import ADVISORY_BUILD_KEY, REMATCH_LOCK, advisory_build, rematch
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
        db = VulnDB.open(settings.effective_db_path)
        try:
            store = await Store.connect(settings.pg_dsn)
            try:
                bus = KafkaBus(
                    settings.kafka_bootstrap, client_id="assay-rematch", security=kafka_security(settings)
                )
                await bus.start()
                try:
                    await bus.ensure_topics(ALL_TOPICS)
                    async with store.lifecycle.exclusive(REMATCH_LOCK) as mine:
                        if not mine:
                            print("assay: another rematch is running; try again later", file=sys.stderr)
                            return 1
                        async with AwsClients(settings.aws) as aws:
                            inventories = Inventories(store, await object_store_for(settings, aws))
                            count = await rematch(
                                store,
                                rulesets,
                                db,
                                publish=bus_publisher(bus),
                                digest=digest,
                                inventories=inventories,
                            )
                        if digest is None:
                            await store.lifecycle.set_state(ADVISORY_BUILD_KEY, advisory_build(db))
                finally:
                    await bus.stop()
            finally:
                await store.close()
        finally:
            db.close()
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return 2
    print(f"rematched against {settings.effective_db_path}: {count} finding events published")
    return 0
