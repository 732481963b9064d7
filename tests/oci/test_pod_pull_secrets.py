"""A pod's own ``imagePullSecrets``, end to end: inventory records the references, the engine reads the
secrets from the cluster for one pull and pulls with them.

Real components: Debian's ``docker-registry`` with htpasswd (bcrypt) Basic auth holding the image,
PostgreSQL (embedded, or ``ASSAY_PG_DSN``), and inventory's and the engine's own code. The cluster is
``tests/harness/fake_kube.py``, a fake Kubernetes API server that speaks the real wire format (a
``Secret`` with base64 ``data`` and ``type: kubernetes.io/dockerconfigjson``, a 404 ``Status`` for a
missing one, bearer-token auth from a kubeconfig): no real API server runs here.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from schemas import Topics, decode_event
from schemas.events import ImageDiscovered, ImageRemoved, ScanCompleted, ScanFailed, ScanRequested
from services.common.bus.memory import MemoryBus
from services.common.config import RegistryConfig
from services.common.inventory import BusPublisher
from services.common.store.postgres import Store
from services.engine.catalogers.registry import select
from services.engine.worker import EngineDeps, make_engine_handler
from services.inventory.kubernetes import ClusterSource
from services.inventory.pullrefs import PullSecretRefs, RecordingPublisher
from services.inventory.settings import ClusterConfig
from services.inventory.store import Environment, Environments
from services.oci.credentials.kube import PullSecretResolver
from services.oci.credentials.pullsecrets import DOCKERCONFIGJSON
from services.settings import load_settings
from tests.harness.eventually import until
from tests.harness.fake_kube import FakeKube, fake_kube
from tests.harness.registry import RegistryServer, manifest_descriptor
from tests.oci.conftest import BasicRegistry

pytestmark = pytest.mark.realworld

POD = Path(__file__).parent / "testdata" / "pods" / "private-image-running.json"
USER, PASSWORD = "puller", "pull-pass-7"


def dockerconfigjson(host: str, user: str, password: str) -> bytes:
    """What ``kubectl create secret docker-registry`` stores under ``.dockerconfigjson``."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    return json.dumps({"auths": {host: {"username": user, "password": password, "auth": auth}}}).encode()


def private_pod(host: str, digest: str, repository: str = "fixture/alpine") -> dict[str, Any]:
    """The pod fixture running ``host/repository@digest``, naming ``regcred`` and ``fallback-cred``."""
    text = POD.read_text().replace("REGISTRY/fixture/alpine", f"{host}/{repository}")
    data: dict[str, Any] = json.loads(text.replace("DIGEST", digest))
    return data


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    store = await Store.connect(pg_dsn)
    yield store
    await store.close()


async def inventory_once(cluster: ClusterConfig, store: Store) -> list[bytes]:
    """Run the cluster's inventory until its sighting is out; the raw inventory records."""
    bus = MemoryBus()
    await bus.start()
    stop = asyncio.Event()
    publisher = RecordingPublisher(BusPublisher(bus), PullSecretRefs(store.pool))
    task = asyncio.create_task(ClusterSource(cluster).run(publisher, stop))
    await until(lambda: bool(bus.records(Topics.INVENTORY)), "the pod's sighting", timeout_s=60)
    stop.set()
    await task
    raw = [m.value for m in bus.records(Topics.INVENTORY)]
    await bus.stop()
    return raw


def engine(tmp_path: Path, reg: RegistryServer, cluster: ClusterConfig, store: Store, isolate: bool) -> Any:
    settings = load_settings(
        environ={},
        overrides={
            "data": {"dir": str(tmp_path / "engine")},
            "content": {"analyzers": []},
            # the registry is known, but the engine holds no credentials of its own for it
            "registries": [RegistryConfig(host=reg.host, insecure=True, crawl=False)],
            "clusters": [cluster],
        },
    )
    resolver = PullSecretResolver(store.pool, settings.clusters)
    deps = EngineDeps(
        settings=settings, catalogers=select(), vulndb=None, pull_secrets=resolver, isolate=isolate
    )
    return make_engine_handler(deps)


@pytest.mark.parametrize("isolate", [False, True], ids=["in-process", "isolated-child"])
async def test_the_engine_pulls_with_the_pods_pull_secret(
    basic_registry: BasicRegistry, store: Store, tmp_path: Path, isolate: bool
) -> None:
    async with fake_kube() as kube:
        with basic_registry(USER, PASSWORD) as reg:
            await _pull_secret_scenario(kube, reg, store, tmp_path, isolate)


async def _pull_secret_scenario(
    kube: FakeKube, reg: RegistryServer, store: Store, tmp_path: Path, isolate: bool
) -> None:
    digest, _, _ = manifest_descriptor(reg, "fixture/alpine", "latest")
    cluster = ClusterConfig(name="eu", kubeconfig=str(kube.write_kubeconfig(tmp_path / "kubeconfig")))
    # the pod names two secrets: the first is for another registry, the second for this one
    kube.add_secret(
        "shop",
        "regcred",
        DOCKERCONFIGJSON,
        {".dockerconfigjson": dockerconfigjson("other.example:5000", "someone", "elsewhere")},
    )
    kube.add_secret(
        "shop",
        "fallback-cred",
        DOCKERCONFIGJSON,
        {".dockerconfigjson": dockerconfigjson(reg.host, USER, PASSWORD)},
    )
    kube.add_secret("shop", "unrelated", DOCKERCONFIGJSON, {".dockerconfigjson": b"{}"})
    kube.add_pod(private_pod(reg.host, digest))

    raw = await inventory_once(cluster, store)
    sighting = decode_event(Topics.INVENTORY, raw[0])
    assert isinstance(sighting, ImageDiscovered)
    assert (sighting.digest, sighting.pull_secrets) == (digest, ["shop/regcred", "shop/fallback-cred"])
    secret_text = base64.b64encode(f"{USER}:{PASSWORD}".encode())
    assert not any(PASSWORD.encode() in r or secret_text in r for r in raw)  # references only on the bus

    handler = engine(tmp_path, reg, cluster, store, isolate)
    request = ScanRequested(
        scan_id="s-pods",
        digest=digest,
        image_ref=f"{reg.host}/fixture/alpine@{digest}",
        environments=["cluster:eu"],
    )
    kube.requests.clear()
    [out] = await handler(request)
    assert isinstance(out.event, ScanCompleted), out.event
    assert {"zlib", "apk-tools"} <= {p.name for p in out.event.packages if p.type == "apk"}
    # exactly the two secrets the pod names were read, each with one GET: no list, no other secret
    assert sorted(kube.requests) == [
        "GET /api/v1/namespaces/shop/secrets/fallback-cred",
        "GET /api/v1/namespaces/shop/secrets/regcred",
    ]

    # the secret is deleted: the engine holds no credentials of its own, so the pull is refused,
    # and the failure names the image, the registry and the secret it could not read
    kube.delete_secret("shop", "fallback-cred")
    [out] = await handler(msgspec.structs.replace(request, scan_id="s-pods-2"))
    assert isinstance(out.event, ScanFailed), out.event
    error = out.event.error
    assert f"{reg.host}/fixture/alpine" in error
    assert "the registry wants credentials" in error
    assert "pull secret shop/fallback-cred in cluster:eu: not found" in error


async def test_a_stopped_pod_forgets_its_references(store: Store, tmp_path: Path) -> None:
    """Removal unlinks the image and its pull-secret references; a digest no pod runs has none."""
    refs = PullSecretRefs(store.pool)
    digest = "sha256:" + "ab" * 32
    seen = ImageDiscovered(
        environment="cluster:eu",
        registry="r.example",
        repository="team/app",
        digest=digest,
        pull_secrets=["shop/regcred", "bad-ref", "shop/regcred2"],
    )
    await refs.record(seen)
    resolver = PullSecretResolver(store.pool)
    rows = await store.pool.fetch(
        "SELECT namespace, name, position FROM pull_secret_refs WHERE digest = $1 ORDER BY position", digest
    )
    assert [tuple(r) for r in rows] == [("shop", "regcred", 0), ("shop", "regcred2", 1)]
    # a registry environment has no pods: nothing to read, no API server asked
    assert (await resolver.resolve(digest, ["registry:r.example"])).secrets == []
    await refs.forget(
        ImageRemoved(environment="cluster:eu", registry="r.example", repository="team/app", digest=digest)
    )
    assert await store.pool.fetchval("SELECT count(*) FROM pull_secret_refs WHERE digest = $1", digest) == 0


async def test_a_cluster_added_at_run_time_is_read_with_its_stored_kubeconfig_but_never_an_agent(
    store: Store, tmp_path: Path
) -> None:
    """A watch-mode environment (``assay environments add``) is reached with its stored kubeconfig; an
    agent cluster's secrets are not this cluster's: its empty kubeconfig is never read as in-cluster."""
    digest = "sha256:" + "cd" * 32
    async with fake_kube() as kube:
        auths = {".dockerconfigjson": dockerconfigjson("r.example:5000", "robot", "robot-secret")}
        kube.add_secret("shop", "regcred", DOCKERCONFIGJSON, auths)
        environments = Environments(store.pool)
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig").read_text()
        await environments.put(Environment(kind="cluster", name="eu-2", kubeconfig=kubeconfig))
        await environments.put(Environment(kind="cluster", name="edge", mode="agent"))
        refs = PullSecretRefs(store.pool)
        for environment in ("cluster:eu-2", "cluster:edge"):
            sighting = ImageDiscovered(
                environment=environment,
                registry="r.example:5000",
                repository="team/app",
                digest=digest,
                pull_secrets=["shop/regcred"],
            )
            await refs.record(sighting)
        found = await PullSecretResolver(store.pool).resolve(digest, ["cluster:edge", "cluster:eu-2"])
    assert [s.ref for s in found.secrets] == ["cluster:eu-2/shop/regcred"]
    assert kube.requests == ["GET /api/v1/namespaces/shop/secrets/regcred"]
    assert found.problems == [
        "pull secrets shop/regcred in cluster:edge: cluster edge: not a cluster the engines watch "
        "(configured, or added in watch mode)"
    ]
    provider = found.provider()
    assert provider is not None
    creds = await provider.credentials("r.example:5000")
    assert creds is not None
    assert (creds.username, creds.password) == ("robot", "robot-secret")
    assert await provider.credentials("other.example:5000") is None  # a secret answers for its hosts only
