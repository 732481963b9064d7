"""A lazily pulled image (GKE Image Streaming): the node lacks its layers, the engine pulls them from the
registry with the pod's own pull secret.

Real components: containerd 1.6 (Debian's package) which pulls the image from Debian's
``docker-registry`` with htpasswd Basic auth, the node daemon (``assay service node``) on it, the
session's broker, PostgreSQL, and the engine's code. The layer is then removed from containerd's
content store (``ctr content rm``), as a streamed image never has it. The cluster is
``tests/harness/fake_kube.py``, a fake Kubernetes API server that speaks the real wire format (no
real API server runs here).
"""

from __future__ import annotations

import base64
import contextlib
import json
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from schemas.events import ImageDiscovered, ScanCompleted, ScanFailed, ScanRequested
from services.common.config import RegistryConfig
from services.common.runner import Handler
from services.common.store.postgres import Store
from services.engine.catalogers.registry import select
from services.engine.worker import EngineDeps, make_engine_handler
from services.inventory.settings import ClusterConfig
from services.node.containerd import ContainerdClient
from services.oci.credentials.kube import PullSecretResolver
from services.oci.credentials.pullsecrets import DOCKERCONFIGJSON
from services.oci.node_names import served_repository
from services.settings import load_settings
from tests.harness.containerd import Containerd
from tests.harness.fake_kube import FakeKube, fake_kube
from tests.harness.registry import (
    RegistryServer,
    manifest_descriptor,
    push_image,
    registry_server,
    require_tools,
)
from tests.node.conftest import NodeDaemon
from tests.node.test_node_daemon import _wait_for_events
from tests.node.tiny_image import tiny_docker_archive
from tests.oci.test_pod_pull_secrets import dockerconfigjson, inventory_once, private_pod

pytestmark = pytest.mark.realworld

USER, PASSWORD = "node-puller", "streamed-pass-3"


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    store = await Store.connect(pg_dsn)
    yield store
    await store.close()


def layer_digests(host: str, repository: str, tag: str) -> list[str]:
    """The layers of a manifest in the registry (Basic auth), as containerd pulled them."""
    request = urllib.request.Request(
        f"http://{host}/v2/{repository}/manifests/{tag}",
        headers={
            "Accept": "application/vnd.docker.distribution.manifest.v2+json",
            "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return [layer["digest"] for layer in json.loads(response.read())["layers"]]


def engine(
    settings_dir: Path, node_daemon: NodeDaemon, reg: RegistryServer, cluster: ClusterConfig, store: Store
) -> Handler:
    """An engine that knows the node daemons and the registry, with no credentials of its own."""
    settings = load_settings(
        environ={},
        overrides={
            "data": {"dir": str(settings_dir)},
            "content": {"analyzers": []},
            "registries": [
                RegistryConfig(host="127.0.0.1:*", insecure=True, crawl=False, node_key=node_daemon.key),
                RegistryConfig(host=reg.host, insecure=True, crawl=False),
            ],
            "clusters": [cluster],
        },
    )
    resolver = PullSecretResolver(store.pool, settings.clusters)
    return make_engine_handler(
        EngineDeps(settings=settings, catalogers=select(), vulndb=None, pull_secrets=resolver)
    )


@contextlib.asynccontextmanager
async def private_image_on_node(
    containerd: Containerd, tmp_path: Path, repository: str
) -> AsyncIterator[tuple[RegistryServer, str, list[str]]]:
    """The tiny image in a Basic-auth registry and pulled from it into containerd, as the kubelet does
    with the pod's secret: (registry, manifest digest, layer digests); removed from containerd on exit."""
    require_tools("docker-registry", "htpasswd", "skopeo")
    tiny = tiny_docker_archive(tmp_path / "image.tar", f"{repository}:1", f"{repository}-{tmp_path.name}")
    with registry_server(tmp_path / "reg", "basic", username=USER, password=PASSWORD) as reg:
        push_image(reg, f"docker-archive:{tiny.path}", f"{repository}:1")
        digest, _, _ = manifest_descriptor(reg, repository, "1")
        name = f"{reg.host}/{repository}:1"
        containerd.ctr("images", "pull", "--plain-http", "--user", f"{USER}:{PASSWORD}", name)
        try:
            yield reg, digest, layer_digests(reg.host, repository, "1")
        finally:
            containerd.ctr("images", "rm", name)


@contextlib.asynccontextmanager
async def cluster_with_pod(
    node_daemon: NodeDaemon, reg: RegistryServer, digest: str, repository: str, store: Store, tmp_path: Path
) -> AsyncIterator[tuple[FakeKube, ClusterConfig]]:
    """The node's cluster, running a pod of the image that names its pull secret; inventory has
    recorded the reference."""
    async with fake_kube() as kube:
        cluster = ClusterConfig(
            name=node_daemon.cluster, kubeconfig=str(kube.write_kubeconfig(tmp_path / "kubeconfig"))
        )
        secret = {".dockerconfigjson": dockerconfigjson(reg.host, USER, PASSWORD)}
        kube.add_secret("shop", "fallback-cred", DOCKERCONFIGJSON, secret)
        kube.add_pod(private_pod(reg.host, digest, repository))
        await inventory_once(cluster, store)
        yield kube, cluster


async def test_a_streamed_image_is_pulled_from_its_registry_with_the_pods_pull_secret(
    node_daemon: NodeDaemon, containerd: Containerd, kafka_servers: str, store: Store, tmp_path: Path
) -> None:
    repository = "fixture/streamed-private"
    async with private_image_on_node(containerd, tmp_path, repository) as (reg, digest, layers):
        for layer in layers:  # Image Streaming leaves the layers remote
            containerd.ctr("content", "rm", layer)
        async with ContainerdClient(containerd.socket) as client:
            assert [await client.blob_info(layer) for layer in layers] == [None] * len(layers)
        # the daemon says so, whether or not it saw the image whole before the layers went
        served = served_repository(reg.host, repository)
        async with aiohttp.ClientSession() as http:
            url = f"http://{node_daemon.address}/v2/{served}/blobs/{layers[0]}"
            async with http.get(url, headers=node_daemon.bearer(served)) as r:
                assert r.status == 404
                assert (await r.json())["errors"][0]["code"] == "BLOB_UNKNOWN"

        # the daemon says the node lacks it: the sighting names the image's own registry
        environment = f"cluster:{node_daemon.cluster}"
        events = await _wait_for_events(
            kafka_servers,
            [ImageDiscovered],
            {"environment": environment, "registry": reg.host, "repository": repository},
        )
        sighting = next(e for e in events if isinstance(e, ImageDiscovered))
        assert (sighting.registry, sighting.digest) == (reg.host, digest)

        async with cluster_with_pod(node_daemon, reg, digest, repository, store, tmp_path) as (kube, cluster):
            handler = engine(tmp_path / "engine", node_daemon, reg, cluster, store)
            request = ScanRequested(
                scan_id="scan-streamed",
                digest=digest,
                image_ref=f"{sighting.registry}/{sighting.repository}@{digest}",
                environments=[environment],
            )
            [out] = await handler(request)
            assert isinstance(out.event, ScanCompleted), out.event
            assert [layer.digest for layer in out.event.image.layers] == layers
            assert "GET /api/v1/namespaces/shop/secrets/fallback-cred" in kube.requests

            kube.delete_secret("shop", "fallback-cred")  # without it the registry refuses
            [out] = await handler(request)
            assert isinstance(out.event, ScanFailed), out.event
            assert f"{reg.host}/{repository}" in out.event.error
            assert "shop/fallback-cred" in out.event.error


async def test_a_layer_the_node_lost_is_fetched_from_the_registry_with_the_pods_pull_secret(
    node_daemon: NodeDaemon, containerd: Containerd, kafka_servers: str, store: Store, tmp_path: Path
) -> None:
    """The daemon offered the image whole, then lost a layer (streamed, or collected): it answers
    BLOB_UNKNOWN, and the engine fetches that layer from the registry the daemon's repository names."""
    repository = "fixture/lost-layer"
    async with private_image_on_node(containerd, tmp_path, repository) as (reg, digest, layers):
        environment = f"cluster:{node_daemon.cluster}"
        served = served_repository(reg.host, repository)  # the daemon's: 127.0.0.1_PORT/<path>
        events = await _wait_for_events(
            kafka_servers, [ImageDiscovered], {"environment": environment, "repository": served}
        )
        assert next(e for e in events if isinstance(e, ImageDiscovered)).registry == node_daemon.address
        image_ref = f"{node_daemon.address}/{served}@{digest}"
        for layer in layers:
            containerd.ctr("content", "rm", layer)
        async with cluster_with_pod(node_daemon, reg, digest, repository, store, tmp_path) as (kube, cluster):
            handler = engine(tmp_path / "engine", node_daemon, reg, cluster, store)
            request = ScanRequested(
                scan_id="scan-lost", digest=digest, image_ref=image_ref, environments=[environment]
            )
            [out] = await handler(request)
            assert isinstance(out.event, ScanCompleted), out.event
            assert out.event.image.ref == image_ref
            assert [layer.digest for layer in out.event.image.layers] == layers

            kube.delete_secret("shop", "fallback-cred")
            [out] = await handler(request)
            assert isinstance(out.event, ScanFailed), out.event
            assert f"the node lacks it; from {reg.host}/{repository}" in out.event.error
            assert "shop/fallback-cred in " in out.event.error
        # having answered BLOB_UNKNOWN, the daemon no longer offers the image: it names its registry
        match = {"environment": environment, "registry": reg.host, "repository": repository}
        await _wait_for_events(kafka_servers, [ImageDiscovered], match)
