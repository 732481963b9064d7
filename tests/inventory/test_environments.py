"""Clusters added at run time: ``assay environments`` on real PostgreSQL, watched through the fake API.

PostgreSQL is real (embedded, or ``ASSAY_PG_DSN``); the cluster is ``tests/harness/fake_kube.py``,
a fake Kubernetes API server that speaks the real wire format (no real API server runs here). The
kubeconfig is stored by the command and read back by inventory, which watches the cluster while
it is stored and stops when it is removed, without a restart.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from schemas import Topics, decode_event
from schemas.events import ImageDiscovered, ImageRemoved
from services.cli.main import main
from services.common.bus.memory import MemoryBus
from services.common.errors import ConfigError
from services.common.inventory import BusPublisher
from services.common.store.postgres import Store
from services.inventory.environments import StoredEnvironments
from services.inventory.onboarding import check_kubeconfig
from services.inventory.store import Environment, Environments
from tests.harness.eventually import until
from tests.harness.fake_kube import FakeKube, fake_kube

POD = Path(__file__).parent / "testdata" / "pods" / "deployment-running.json"
NGINX = "sha256:9ff236ed47fe39cf1f0acf349d0e5137f8b8a6fd0b46e5117a401010e56222e1"


def running_pod(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(POD.read_text())
    data["metadata"]["name"] = name
    del data["metadata"]["uid"], data["metadata"]["resourceVersion"]
    return data


@pytest.fixture
async def server() -> AsyncIterator[FakeKube]:
    async with fake_kube() as s:
        yield s


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    store = await Store.connect(pg_dsn)
    yield store
    await store.close()


def test_the_command_adds_lists_and_removes_a_cluster(
    pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSAY_PG_DSN", pg_dsn)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://10.0.0.1:6443"}}],
                "users": [{"name": "u", "user": {"token": "secret-token"}}],
                "contexts": [{"name": "remote", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    add = ["environments", "add", "cluster", "eu-1", "--kubeconfig", str(kubeconfig)]
    assert main(add) == 2  # no current-context and none named
    assert "no current-context" in capsys.readouterr().err
    assert main([*add, "--context", "remote", "--ou", "payments", "--namespace", "shop"]) == 0
    assert capsys.readouterr().out.strip() == "added: cluster:eu-1"
    assert main([*add, "--context", "remote", "--ou", "retail"]) == 0
    assert capsys.readouterr().out.strip() == "replaced: cluster:eu-1"
    assert main(["environments", "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.split() == ["cluster:eu-1", "ou=retail", "context=remote", "all", "namespaces"]
    assert "secret-token" not in listed
    assert main(["environments", "remove", "cluster", "eu-1"]) == 0
    assert main(["environments", "remove", "cluster", "eu-1"]) == 1
    assert main(["environments", "add", "cluster", "x", "--kubeconfig", str(tmp_path / "none")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_an_agent_cluster_is_registered_with_how_to_run_it(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSAY_PG_DSN", pg_dsn)
    monkeypatch.setenv("ASSAY_KAFKA_BOOTSTRAP", "kafka.central.example:9093")
    assert main(["environments", "add", "cluster", "edge-1", "--agent", "--ou", "retail"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "added: cluster:edge-1 (agent)"
    # the helm command, the Secrets and the Kafka user are checked against the rendered chart in
    # tests/deploy/test_deploy_agent.py; here: what the command took from its arguments and settings
    (helm,) = [line.split() for line in out.splitlines() if line.strip().startswith("helm install")]
    assert "kafka.bootstrap=kafka.central.example:9093" in helm
    assert {"inventory.watchCluster.name=edge-1", "inventory.watchCluster.ou=retail"} <= set(helm)
    (secret,) = [line for line in out.splitlines() if "-n assay create secret generic assay-kafka " in line]
    password = secret.rsplit("--from-literal=password=", 1)[1]
    assert len(password) >= 24
    assert f"SCRAM-SHA-512=[password={password}]" in out  # the broker command names the same password
    assert "--operation Write --topic assay.inventory.v1" in out
    assert main(["environments", "list"]) == 0
    assert capsys.readouterr().out.split() == ["cluster:edge-1", "ou=retail", "agent"]
    with pytest.raises(SystemExit):  # --kubeconfig or --agent is required (argparse's own exit)
        main(["environments", "add", "cluster", "x"])
    assert "one of the arguments --kubeconfig --agent is required" in capsys.readouterr().err


async def test_agent_clusters_are_not_watched_centrally(store: Store) -> None:
    environments = Environments(store.pool)
    await environments.put(Environment(kind="cluster", name="edge-1", mode="agent", ou="retail"))
    source = StoredEnvironments(environments, poll_s=60)
    await source.reconcile(BusPublisher(MemoryBus()))
    assert source.watching == {}


async def test_inventory_watches_a_stored_cluster_until_it_is_removed(
    server: FakeKube, store: Store, tmp_path: Path
) -> None:
    environments = Environments(store.pool)
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig").read_text()
    server.add_pod(running_pod("web-1"))
    bus = MemoryBus()
    await bus.start()

    def discovered() -> list[ImageDiscovered]:
        events = [decode_event(m.topic, m.value) for m in bus.records(Topics.INVENTORY)]
        return [e for e in events if isinstance(e, ImageDiscovered)]

    source = StoredEnvironments(environments, poll_s=0.05, configured={"from-settings"})
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(BusPublisher(bus), stop))
    try:
        await asyncio.sleep(0.2)
        assert discovered() == []  # nothing stored yet
        await environments.put(Environment(kind="cluster", name="eu-1", kubeconfig=kubeconfig, ou="payments"))
        # ignored: that name is configured in ASSAY_CLUSTERS
        await environments.put(Environment(kind="cluster", name="from-settings", kubeconfig=kubeconfig))
        await until(lambda: any(e.digest == NGINX for e in discovered()), "the stored cluster's pod")
        nginx = next(e for e in discovered() if e.digest == NGINX)
        assert (nginx.environment, nginx.ou, nginx.workload, nginx.container) == (
            "cluster:eu-1",
            "payments",
            "web",
            "nginx",
        )
        assert set(source.watching) == {"cluster:eu-1"}
        assert await environments.remove("cluster", "eu-1")
        await until(lambda: not source.watching, "the watch to stop")

        def removed() -> list[ImageRemoved]:
            events = [decode_event(m.topic, m.value) for m in bus.records(Topics.INVENTORY)]
            return [e for e in events if isinstance(e, ImageRemoved)]

        # the watch's end and its removals are published one after the other: wait for all three
        await until(lambda: len(removed()) >= 3, "the stopped watch's images to be unlinked")
        # the images it ran are unlinked from that environment: the three containers' images
        assert sorted((e.environment, e.repository) for e in removed()) == [
            ("cluster:eu-1", "library/busybox"),
            ("cluster:eu-1", "library/nginx"),
            ("cluster:eu-1", "team/log-shipper"),
        ]
        before = len(discovered())
        server.add_pod(running_pod("web-2"))
        await asyncio.sleep(0.3)
        assert len(discovered()) == before  # nobody watches it any more
    finally:
        stop.set()
        await task
        await bus.stop()


async def test_a_broken_stored_kubeconfig_is_logged_and_retried(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    environments = Environments(store.pool)
    await environments.put(Environment(kind="cluster", name="bad", kubeconfig="- not a mapping"))
    source = StoredEnvironments(environments, poll_s=0.05)
    bus = MemoryBus()
    await bus.start()
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(BusPublisher(bus), stop))
    await until(lambda: sum("cannot load" in r.getMessage() for r in caplog.records) >= 2, "two tries")
    stop.set()
    await task
    await bus.stop()
    assert "clusters[bad]" in next(r.getMessage() for r in caplog.records if "cannot load" in r.getMessage())
    with pytest.raises(ConfigError, match="not a kubeconfig"):
        check_kubeconfig("- not a mapping", "")
