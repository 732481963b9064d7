"""Environments added at run time: inventory watches each stored cluster while it is stored.

``StoredEnvironments`` is an ``InventorySource`` that reads the ``environments`` table every
``poll_s``, starts a ``ClusterSource`` for each cluster added, stops the one of each cluster
removed, and restarts one whose settings changed or whose watch ended (an unreadable kubeconfig is
logged and tried again on the next look). So ``assay environments add`` takes effect without a
restart. A name also in ``ASSAY_CLUSTERS`` is left to that configuration. Removing a cluster
unlinks the images it ran (``ImageRemoved`` for each); a shutdown or a restart unlinks nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection

from services.common.errors import StoreError
from services.common.inventory import Publisher
from services.inventory.kubernetes import ClusterSource
from services.inventory.settings import ClusterConfig
from services.inventory.store import Environment, Environments

__all__ = ["StoredEnvironments"]

log = logging.getLogger(__name__)


class _Watch:
    """One running ``ClusterSource`` and how to stop it."""

    def __init__(self, env: Environment, publish: Publisher) -> None:
        self.env = env
        self.stop = asyncio.Event()
        cluster = ClusterConfig(
            name=env.name, context=env.context, namespaces=list(env.namespaces), ou=env.ou
        )
        self.source = ClusterSource(cluster, env.kubeconfig)
        self.task = asyncio.create_task(self._run(self.source, publish))

    async def _run(self, source: ClusterSource, publish: Publisher) -> None:
        try:
            await source.run(publish, self.stop)
        except Exception as exc:  # logged, and tried again on the next look
            log.error("inventory: %s stopped: %s", source.name, exc)

    async def close(self, *, withdraw: bool = False) -> None:
        """Stop the watch; with ``withdraw`` (the environment was removed) unlink what it ran."""
        self.stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        if withdraw:
            await self.source.withdraw()


class StoredEnvironments:
    """``InventorySource`` over the environments stored by ``assay environments add``."""

    name = "stored environments"

    def __init__(
        self, environments: Environments, *, poll_s: float, configured: Collection[str] = ()
    ) -> None:
        self._environments = environments
        self._poll_s = poll_s
        self._configured = set(configured)  # cluster names of ASSAY_CLUSTERS
        self.watching: dict[str, _Watch] = {}  # environment -> its watch
        self._warned: set[str] = set()

    async def run(self, publish: Publisher, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self.reconcile(publish)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._poll_s)
        finally:
            await asyncio.gather(*(w.close() for w in self.watching.values()))
            self.watching.clear()

    async def reconcile(self, publish: Publisher) -> None:
        """Start, stop and restart watches to match the table now."""
        try:
            stored = await self._environments.all()
        except StoreError as exc:  # keep what runs; look again later
            log.warning("inventory: cannot read the stored environments: %s", exc)
            return
        wanted: dict[str, Environment] = {}
        for env in stored:
            if env.kind != "cluster" or env.mode != "watch":
                continue  # an agent's cluster publishes by itself
            if env.name in self._configured:
                if env.name not in self._warned:
                    self._warned.add(env.name)
                    log.warning(
                        "inventory: %s is configured in ASSAY_CLUSTERS; the stored one is ignored", env.name
                    )
                continue
            wanted[env.environment] = env
        for key, watch in list(self.watching.items()):
            if wanted.get(key) != watch.env or watch.task.done():
                del self.watching[key]
                await watch.close(withdraw=key not in wanted)
                log.info("inventory: stopped watching %s", key)
        for key, env in wanted.items():
            if key not in self.watching:
                self.watching[key] = _Watch(env, publish)
                log.info("inventory: watching %s", key)
