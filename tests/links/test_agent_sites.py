"""An agent's cluster routes its images to any engine: it runs none of its own (issue 19).

Real PostgreSQL (a fresh database per test); the agent is registered as ``assay environments add
cluster NAME --agent`` stores it (``services/inventory/store.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.common.store import Store, links
from services.inventory.store import Environment, Environments


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


async def test_an_agent_cluster_puts_no_site_on_its_images(store: Store) -> None:
    environments = Environments(store.pool)
    await environments.put(Environment(kind="cluster", name="edge-1", mode="agent", ou="retail"))
    await environments.put(Environment(kind="cluster", name="watched", mode="watch", kubeconfig="x"))
    await links.link(store, "reg.example.com", "prod")
    sites = await links.scan_sites_many(
        store,
        [
            ["cluster:edge-1"],  # only the agent's cluster runs it: any engine
            ["cluster:edge-1", "cluster:watched"],  # the watched cluster's engines too
            ["cluster:edge-1", "registry:reg.example.com"],  # the registry's linked cluster
            ["cluster:not-registered"],  # a cluster of ASSAY_CLUSTERS (not stored): itself
        ],
    )
    assert sites == [[], ["watched"], ["prod"], ["not-registered"]]
