"""The cluster watcher against ``tests/harness/fake_kube.py``.

No real API server can run here (no etcd, kubelet or container runtime), so these tests talk to a
faithful fake that speaks the real wire format: PodList pages with ``limit``/``continue``, a chunked
JSON-lines watch stream with ADDED/MODIFIED/DELETED/BOOKMARK/ERROR events, 410 Gone as a ``Status``
(both as an ERROR event and as an HTTP answer), bearer-token auth. The watcher connects through a
kubeconfig with the real kubernetes_asyncio client, and publishes through the same ``publish_event``
seam the inventory service uses (``BusPublisher``), onto the in-memory bus.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from schemas import Event, ImageDiscovered, ImageRemoved, Topics, decode_event
from services.common.bus.memory import MemoryBus
from services.common.inventory import BusPublisher
from services.inventory.kubernetes import ClusterWatcher, open_source
from services.inventory.settings import ClusterConfig
from tests.harness.fake_kube import FakeKube, fake_kube

TEMPLATE = Path(__file__).parent / "testdata" / "pods" / "statefulset-dockershim-running.json"
CREATED = "2024-05-02T10:14:31Z"  # after the minute named by the CronJob-made Job below (2024-04-28)


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def pod(
    namespace: str,
    name: str,
    *,
    repo: str,
    n: int,
    owner: tuple[str, str] | None = None,
    phase: str = "Running",
) -> dict[str, Any]:
    """A real-shaped pod (from the fixture) running ``repo`` at ``digest(n)``, on containerd."""
    data: dict[str, Any] = json.loads(TEMPLATE.read_text())
    meta = data["metadata"]
    meta.update(name=name, namespace=namespace, labels={"app": name}, creationTimestamp=CREATED)
    del meta["uid"], meta["resourceVersion"]
    if owner is not None and owner[0] == "ReplicaSet" and "-" in owner[1]:
        # as the Deployment controller labels its pods: the ReplicaSet name's hash suffix
        meta["labels"]["pod-template-hash"] = owner[1].rsplit("-", 1)[1]
    if owner is None:
        del meta["ownerReferences"]
    else:
        meta["ownerReferences"] = [
            {"apiVersion": "apps/v1", "controller": True, "kind": owner[0], "name": owner[1], "uid": "x"}
        ]
    data["spec"]["containers"][0].update(name="main", image=f"{repo}:1.0")
    status = data["status"]["containerStatuses"][0]
    status.update(
        name="main", image=f"{repo}:1.0", imageID=f"{repo}@{digest(n)}" if phase == "Running" else ""
    )
    data["status"]["phase"] = phase
    return data


def owner(kind: str, namespace: str, name: str, parent: tuple[str, str] | None) -> dict[str, Any]:
    """A ReplicaSet or Job as the API serves it, controlled by ``parent`` (None: created by hand)."""
    api = "apps/v1" if kind == "ReplicaSet" else "batch/v1"
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{name}",
        "resourceVersion": "500",
    }
    if parent is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1" if parent[0] == "Deployment" else "batch/v1",
                "blockOwnerDeletion": True,
                "controller": True,
                "kind": parent[0],
                "name": parent[1],
                "uid": f"uid-{parent[1]}",
            }
        ]
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": {}, "status": {}}


class Harness:
    """A started watcher and what it published."""

    def __init__(self, server: FakeKube, watcher: ClusterWatcher, bus: MemoryBus) -> None:
        self.server = server
        self.watcher = watcher
        self.bus = bus

    def events(self) -> list[Event]:
        return [decode_event(m.topic, m.value) for m in self.bus.records(Topics.INVENTORY)]

    def discovered(self) -> list[ImageDiscovered]:
        return [e for e in self.events() if isinstance(e, ImageDiscovered)]

    def removed(self) -> list[ImageRemoved]:
        return [e for e in self.events() if isinstance(e, ImageRemoved)]

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        for _ in range(400):
            if condition():
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"never happened: {what}; events: {self.events()}")

    async def sync(self, n: int) -> None:
        """Add a marker pod and wait for it: everything the server sent before it was handled."""
        self.server.add_pod(pod("sync", f"marker-{n}", repo="example.com/marker", n=10_000 + n))
        await self.until(
            lambda: any(e.digest == digest(10_000 + n) for e in self.discovered()), f"marker {n}"
        )


@pytest.fixture
async def server() -> AsyncIterator[FakeKube]:
    async with fake_kube() as s:
        yield s


@asynccontextmanager
async def start(server: FakeKube, tmp_path: Path, **options: Any) -> AsyncIterator[Harness]:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    cluster = ClusterConfig(
        name="prod-eu",
        kubeconfig=str(kubeconfig),
        page_size=2,
        backoff_initial_s=0.05,
        backoff_max_s=0.5,
        **options,
    )
    bus = MemoryBus()
    await bus.start()
    async with open_source(cluster) as source:
        watcher = ClusterWatcher(cluster, source, BusPublisher(bus))
        task = asyncio.create_task(watcher.run())
        try:
            yield Harness(server, watcher, bus)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await bus.stop()


@pytest.fixture
async def harness(server: FakeKube, tmp_path: Path) -> AsyncIterator[Harness]:
    async with start(server, tmp_path) as h:
        yield h


def add_workload_pods(server: FakeKube) -> None:
    """Pods of a Deployment (two replicas), a CronJob, a hand-made Job, a StatefulSet, a bare
    ReplicaSet, and a Deployment whose ReplicaSet is already gone; their ReplicaSets and Jobs too."""
    server.add_owner(owner("ReplicaSet", "shop", "web-7c5ddbdf54", ("Deployment", "web")))
    server.add_owner(owner("Job", "ops", "backup-28571520", ("CronJob", "backup")))
    server.add_owner(owner("Job", "ops", "report-28570000", None))  # made by hand, named like a CronJob's
    server.add_owner(owner("ReplicaSet", "shop", "standalone", None))
    server.add_pod(
        pod("shop", "web-7c5ddbdf54-a", repo="example.com/web", n=1, owner=("ReplicaSet", "web-7c5ddbdf54"))
    )
    server.add_pod(
        pod("shop", "web-7c5ddbdf54-b", repo="example.com/web", n=1, owner=("ReplicaSet", "web-7c5ddbdf54"))
    )
    server.add_pod(
        pod("ops", "backup-28571520-x", repo="example.com/backup", n=2, owner=("Job", "backup-28571520"))
    )
    server.add_pod(
        pod("ops", "report-28570000-x", repo="example.com/report", n=5, owner=("Job", "report-28570000"))
    )
    server.add_pod(pod("data", "cache-0", repo="example.com/cache", n=3, owner=("StatefulSet", "cache")))
    server.add_pod(
        pod("shop", "standalone-q", repo="example.com/solo", n=6, owner=("ReplicaSet", "standalone"))
    )
    server.add_pod(
        pod("shop", "old-5d8f9c-z", repo="example.com/old", n=7, owner=("ReplicaSet", "old-5d8f9c"))
    )


COMMON_WORKLOADS = {
    ("shop", "Deployment", "web", "web", digest(1), "1.0"),
    ("ops", "CronJob", "backup", "backup", digest(2), "1.0"),
    ("data", "StatefulSet", "cache", "cache", digest(3), "1.0"),
    ("kube-system", "DaemonSet", "agent", "agent", digest(4), "1.0"),
    ("shop", "ReplicaSet", "standalone", "solo", digest(6), "1.0"),  # no pod-template-hash: no Deployment
    ("shop", "Deployment", "old", "old", digest(7), "1.0"),  # ReplicaSet gone (404): named by its name
}


@pytest.mark.parametrize("lookups", [False, True], ids=["by-name", "api-lookups"])
async def test_running_pods_across_namespaces_give_digests_and_owners(
    server: FakeKube, tmp_path: Path, lookups: bool
) -> None:
    add_workload_pods(server)
    async with start(server, tmp_path, owner_lookups=lookups) as h:
        # added while watching
        server.add_pod(
            pod("kube-system", "agent-x", repo="example.com/agent", n=4, owner=("DaemonSet", "agent"))
        )
        await h.sync(1)  # the marker comes after the list and the DaemonSet's pod
        seen = [e for e in h.discovered() if e.namespace != "sync"]
        got = {(e.namespace, e.workload_kind, e.workload, e.repository, e.digest, e.tag) for e in seen}
        # the one case names get wrong: a hand-made Job named <name>-<minutes>; reading the Job fixes it
        report = ("Job", "report-28570000") if lookups else ("CronJob", "report")
        assert got == COMMON_WORKLOADS | {("ops", *report, "report", digest(5), "1.0")}
        assert {(e.environment, e.registry) for e in seen} == {("cluster:prod-eu", "example.com")}
        assert len(seen) == 7  # two replicas of one Deployment are one sighting
        assert sum("continue=" in r for r in server.requests) >= 3  # 7 pods listed in pages of two
        owner_reads = [r for r in server.requests if "/replicasets/" in r or "/jobs/" in r]
        if lookups:  # each ReplicaSet/Job read once (the gone one is not cached, but has one pod)
            assert sum("/replicasets/web-7c5ddbdf54" in r for r in owner_reads) == 1
            assert len(owner_reads) == 5
        else:  # pods list/watch is all the default asks of RBAC
            assert owner_reads == []
            assert all("/pods" in r for r in server.requests)


async def test_pending_pod_counts_once_running(harness: Harness) -> None:
    harness.server.add_pod(pod("shop", "late", repo="example.com/late", n=5, phase="Pending"))
    await harness.sync(1)
    assert not any(e.digest == digest(5) for e in harness.discovered())
    harness.server.update_pod(pod("shop", "late", repo="example.com/late", n=5))
    await harness.until(lambda: any(e.digest == digest(5) for e in harness.discovered()), "running pod")
    assert [e.workload_kind for e in harness.discovered() if e.digest == digest(5)] == ["Pod"]


async def test_deleting_the_last_pod_of_a_digest_unlinks_it(harness: Harness) -> None:
    harness.server.add_pod(pod("a", "one", repo="example.com/app", n=6))
    harness.server.add_pod(pod("b", "two", repo="example.com/app", n=6))
    await harness.sync(1)
    harness.server.delete_pod("a", "one")
    await harness.sync(2)
    # pod b still runs it: the link is dropped with pod a's workload, and pod b's is sent again
    after = [e for e in harness.events() if getattr(e, "digest", "") == digest(6)][2:]
    assert [type(e).__name__ for e in after] == ["ImageRemoved", "ImageDiscovered"]
    assert isinstance(after[1], ImageDiscovered)
    assert (after[1].namespace, after[1].workload, after[1].pod_count) == ("b", "two", 1)
    harness.server.delete_pod("b", "two")
    await harness.until(lambda: len(harness.removed()) == 2, "the unlink")
    removed = harness.removed()[-1]
    assert isinstance(harness.events()[-1], ImageRemoved)
    assert (removed.environment, removed.registry, removed.repository, removed.digest) == (
        "cluster:prod-eu",
        "example.com",
        "app",
        digest(6),
    )
    assert removed.removed_at


async def test_a_pod_that_stops_running_unlinks_its_image(harness: Harness) -> None:
    harness.server.add_pod(pod("jobs", "once", repo="example.com/once", n=7))
    await harness.sync(1)
    done = pod("jobs", "once", repo="example.com/once", n=7)
    done["status"]["phase"] = "Succeeded"
    harness.server.update_pod(done)
    await harness.until(lambda: any(e.digest == digest(7) for e in harness.removed()), "unlink on Succeeded")


@pytest.mark.parametrize("as_http", [False, True], ids=["error-event", "http-410"])
async def test_forced_410_during_watch_loses_no_event(harness: Harness, as_http: bool) -> None:
    server = harness.server
    server.add_pod(pod("shop", "stays", repo="example.com/stays", n=8))
    server.add_pod(pod("shop", "goes", repo="example.com/goes", n=9))
    await harness.sync(1)
    assert harness.watcher.relists == 1
    server.hold()  # the open stream stalls: what follows reaches the watcher only through a re-list
    server.add_pod(pod("shop", "arrives", repo="example.com/arrives", n=10))
    server.delete_pod("shop", "goes")
    server.hold(False)
    if as_http:
        server.watch_410_as_http = True
        server.compact()
        server.drop_watches()  # the reconnecting watch is answered HTTP 410
    else:
        server.expire_watches()  # ERROR event with a 410 Status on the open stream
    await harness.until(
        lambda: (
            any(e.digest == digest(10) for e in harness.discovered())
            and any(e.digest == digest(9) for e in harness.removed())
        ),
        "the add and the delete made during the gap",
    )
    assert harness.watcher.relists == 2
    assert not any(e.digest == digest(8) for e in harness.removed())
    assert sum(e.digest == digest(8) for e in harness.discovered()) == 1  # no repeat for known pods
    await harness.sync(2)  # and the watch goes on after the re-list


async def test_bookmarks_advance_the_resource_version(harness: Harness) -> None:
    await harness.sync(1)
    # the marker may have come with the first list: a bookmark reaches only a watch already open
    await harness.until(lambda: harness.server.open_watches > 0, "an open watch")
    for _ in range(3):
        harness.server.bump()
    version = harness.server.resource_version
    assert harness.watcher.resource_versions[""] != version
    harness.server.bookmark()
    await harness.until(lambda: harness.watcher.resource_versions[""] == version, "bookmark version")
    watches = [r.lower() for r in harness.server.requests if "watch=true" in r.lower()]
    assert watches
    assert all("allowwatchbookmarks=true" in r for r in watches)


async def test_reconnects_after_the_server_drops_the_connection(harness: Harness) -> None:
    await harness.sync(1)
    watches_before = sum("watch=true" in r.lower() for r in harness.server.requests)
    version = harness.watcher.resource_versions[""]
    harness.server.drop_watches()
    harness.server.add_pod(pod("shop", "after-drop", repo="example.com/after", n=11))
    await harness.until(lambda: any(e.digest == digest(11) for e in harness.discovered()), "pod after drop")
    watches = [r for r in harness.server.requests if "watch=true" in r.lower()]
    assert len(watches) > watches_before
    assert f"resourceVersion={version}" in watches[watches_before]  # resumed, not re-listed
    assert harness.watcher.relists == 1


async def test_periodic_resync_finds_what_a_stalled_watch_missed(server: FakeKube, tmp_path: Path) -> None:
    async with start(server, tmp_path, resync_interval_s=1.0) as h:
        await h.sync(1)
        server.hold()  # the stream stays open but says nothing
        server.add_pod(pod("shop", "unseen", repo="example.com/unseen", n=12))
        await h.until(lambda: any(e.digest == digest(12) for e in h.discovered()), "resync")
        assert h.watcher.relists >= 2


async def test_refused_requests_are_retried_with_backoff(harness: Harness) -> None:
    server = harness.server
    await harness.sync(1)
    before = len(server.requests)
    server.token = "rotated"  # the client's token is refused from now on: 401 with a Status
    server.drop_watches()
    await harness.until(lambda: len(server.requests) >= before + 3, "retries")
    server.token = "fake-kube-token"
    await harness.sync(2)
    assert harness.watcher.relists == 1


def test_pod_builder_is_real_shaped() -> None:
    built = pod("ns", "p", repo="example.com/x", n=1, owner=("ReplicaSet", "rs"))
    template = json.loads(TEMPLATE.read_text())
    assert set(built) == set(template)
    assert set(built["status"]) == set(copy.deepcopy(template)["status"])


DEPLOYMENT = Path(__file__).parent / "testdata" / "pods" / "deployment-running.json"
CONTAINERS = {  # the fixture pod's containers (the init container included) and their digests
    "wait-for-db": "sha256:c3839dd800b9eb7603340509769c43e146a74c63dca3045a8e7dc8ee07e53966",
    "nginx": "sha256:9ff236ed47fe39cf1f0acf349d0e5137f8b8a6fd0b46e5117a401010e56222e1",
    "log-shipper": "sha256:9b2a4f7c1d3e5a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b",
}


def replica(suffix: str, phase: str = "Running") -> dict[str, Any]:
    """One pod of Deployment shop/web (ReplicaSet web-7c5ddbdf54), from the real-shaped fixture."""
    data: dict[str, Any] = json.loads(DEPLOYMENT.read_text())
    meta = data["metadata"]
    meta["name"] = f"web-7c5ddbdf54-{suffix}"
    del meta["uid"], meta["resourceVersion"]
    data["status"]["phase"] = phase
    return data


def web_sightings(h: Harness) -> list[tuple[str, str, int]]:
    """(container, digest, pod count) of every sighting of Deployment web (in order per digest: the
    bus keeps order per key, and the key is the digest)."""
    return [
        (e.container, e.digest, e.pod_count)
        for e in h.discovered()
        if (e.namespace, e.workload_kind, e.workload) == ("shop", "Deployment", "web")
    ]


def latest(h: Harness) -> set[tuple[str, str, int]]:
    """The last published (container, digest, pod count) of each of Deployment web's containers."""
    return set({(c, d): (c, d, n) for c, d, n in web_sightings(h)}.values())


def each(count: int) -> set[tuple[str, str, int]]:
    return {(c, d, count) for c, d in CONTAINERS.items()}


async def test_a_deployment_is_one_sighting_per_container_with_its_pod_count(
    server: FakeKube, tmp_path: Path
) -> None:
    for suffix in ("a", "b", "c"):  # three replicas, listed at start-up
        server.add_pod(replica(suffix))
    server.add_pod(replica("pending", phase="Pending"))  # not running: not counted
    async with start(server, tmp_path) as h:
        await h.sync(1)
        # one list: one event per container, each counting the three Running pods
        assert sorted(web_sightings(h)) == sorted(each(3))
        assert {e.environment for e in h.discovered()} == {"cluster:prod-eu"}

        server.delete_pod("shop", "web-7c5ddbdf54-c")  # scaled down to two
        await h.until(lambda: len(web_sightings(h)) == 6, "the new pod count")
        assert latest(h) == each(2)

        server.update_pod(replica("b", phase="Failed"))  # a replica that stopped no longer counts
        await h.until(lambda: len(web_sightings(h)) == 9, "the count after a failure")
        assert latest(h) == each(1)

        server.update_pod(replica("pending"))  # the pending one starts
        await h.until(lambda: len(web_sightings(h)) == 12, "the count after a start")
        assert latest(h) == each(2)
        await h.sync(2)
        assert len(web_sightings(h)) == 12  # one event per container per change, nothing more
        assert h.removed() == []  # the images ran throughout


async def test_two_containers_running_one_image_are_two_sightings(harness: Harness) -> None:
    two = pod("shop", "sidecars", repo="example.com/tool", n=20)
    second = copy.deepcopy(two["spec"]["containers"][0])
    second["name"] = "helper"
    two["spec"]["containers"].append(second)
    status = copy.deepcopy(two["status"]["containerStatuses"][0])
    status["name"] = "helper"
    two["status"]["containerStatuses"].append(status)
    harness.server.add_pod(two)
    await harness.until(lambda: sum(e.digest == digest(20) for e in harness.discovered()) == 2, "two")
    got = {(e.container, e.pod_count, e.workload) for e in harness.discovered() if e.digest == digest(20)}
    assert got == {("main", 1, "sidecars"), ("helper", 1, "sidecars")}


async def test_a_workload_that_moves_to_a_new_digest_unlinks_the_old_one(harness: Harness) -> None:
    harness.server.add_pod(pod("shop", "api", repo="example.com/api", n=30))
    await harness.sync(1)
    harness.server.update_pod(pod("shop", "api", repo="example.com/api", n=31))  # rolled to a new image
    await harness.until(lambda: any(e.digest == digest(30) for e in harness.removed()), "old unlinked")
    assert any(e.digest == digest(31) and e.pod_count == 1 for e in harness.discovered())
