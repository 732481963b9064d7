"""The node daemon against a real containerd: CRI listing, inventory reports, the pull endpoint.

The end-to-end test scans an image that exists only in containerd (imported from the Debian
fixture's docker-archive, in no registry) through the daemon's OCI distribution endpoint with the
engine's own handler, and compares its packages with a scan of the same image's OCI layout.
"""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import aiohttp

from schemas.codec import decode_event
from schemas.events import Event, ImageDiscovered, ImageRemoved, ScanCompleted, ScanRequested
from schemas.topics import Topics
from services.common.bus.kafka import KafkaBus
from services.common.config import RegistryConfig
from services.engine.catalogers.registry import select
from services.engine.core import detect
from services.engine.image.targets import parse_target
from services.engine.worker import EngineDeps, make_engine_handler
from services.node.containerd import ContainerdClient
from services.node.images import node_images
from services.oci.nodetoken import load_private_key, mint
from services.settings import load_settings
from tests.harness.broker import unique_name
from tests.harness.containerd import Containerd
from tests.node.conftest import IMAGE, NodeDaemon
from tests.node.tiny_image import tiny_docker_archive

REPOSITORY = "docker.io/fixture/debian"


async def _wait_for_events(
    bootstrap: str, want: list[type[Event]], match: dict[str, str], within_s: float = 60.0
) -> list[Event]:
    """Inventory events whose fields equal ``match``, read until one of each wanted type is seen."""
    bus = KafkaBus(bootstrap, client_id="assay-node-test")
    await bus.start()
    consumer = bus.consumer(unique_name("node-reader"), [Topics.INVENTORY])
    await consumer.start()
    seen: list[Event] = []
    try:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            for m in await consumer.fetch(max_records=500, timeout_s=0.5):
                event = decode_event(Topics.INVENTORY, m.value)
                if all(getattr(event, k, None) == v for k, v in match.items()):
                    seen.append(event)
            if all(any(isinstance(e, t) for e in seen) for t in want):
                return seen
    finally:
        await consumer.stop()
        await bus.stop()
    raise AssertionError(f"no {want} matching {match} within {within_s}s; saw {seen}")


async def test_cri_lists_the_imported_image_and_containerd_resolves_its_manifest(
    containerd: Containerd, image_digest: str
) -> None:
    async with ContainerdClient(containerd.socket) as client:
        assert (await client.runtime_version()).startswith("containerd ")
        cri = await client.cri_images()
        listed = [im for im in cri if IMAGE in im.repo_tags]
        assert len(listed) == 1
        assert listed[0].repo_digests == ()  # imported images have none: hence containerd's API
        assert listed[0].id.startswith("sha256:")
        assert listed[0].size > 400_000_000
        images = await node_images(client)
    mine = [i for i in images if i.repository == REPOSITORY]
    assert [(i.tag, i.digest) for i in mine] == [("latest", image_digest)]


async def test_daemon_reports_images_and_their_removal(
    node_daemon: NodeDaemon, containerd: Containerd, kafka_servers: str, image_digest: str
) -> None:
    env = f"cluster:{node_daemon.cluster}"
    events = await _wait_for_events(
        kafka_servers, [ImageDiscovered], {"environment": env, "repository": REPOSITORY}
    )
    found = next(e for e in events if isinstance(e, ImageDiscovered))
    assert (found.registry, found.tag, found.digest) == (node_daemon.address, "latest", image_digest)
    assert found.size_bytes > 400_000_000

    # a second name for the same content appears, then goes: ImageDiscovered, then ImageRemoved
    extra = "docker.io/fixture/extra:1"
    containerd.ctr("images", "tag", IMAGE, extra)
    try:
        await _wait_for_events(
            kafka_servers,
            [ImageDiscovered],
            {"environment": env, "repository": "docker.io/fixture/extra", "digest": image_digest},
        )
    finally:
        containerd.ctr("images", "rm", extra)
    events = await _wait_for_events(
        kafka_servers, [ImageRemoved], {"environment": env, "repository": "docker.io/fixture/extra"}
    )
    removed = next(e for e in events if isinstance(e, ImageRemoved))
    assert (removed.digest, removed.registry) == (image_digest, node_daemon.address)


async def test_endpoint_takes_only_signed_tokens_for_this_node_and_repository(
    node_daemon: NodeDaemon, image_digest: str
) -> None:
    base = f"http://{node_daemon.address}/v2"
    manifest = f"{base}/{REPOSITORY}/manifests/{image_digest}"
    elsewhere = mint(load_private_key(node_daemon.key), "10.9.9.9:5050", REPOSITORY, time.time())
    legacy = base64.b64encode(b"assay:node-test-token").decode()
    refused: list[dict[str, str]] = [
        {},
        {"Authorization": f"Basic {legacy}"},
        {"Authorization": f"Bearer {elsewhere}"},
    ]
    async with aiohttp.ClientSession() as http:
        for headers in refused:
            async with http.get(manifest, headers=headers) as r:
                assert r.status == 401
                challenge = r.headers["WWW-Authenticate"]
                assert challenge.startswith('Bearer realm="assay-node"')
                assert f'scope="repository:{REPOSITORY}:pull"' in challenge
                assert (await r.json())["errors"][0]["code"] == "UNAUTHORIZED"
        mine = node_daemon.bearer(REPOSITORY)
        async with http.head(manifest, headers=mine) as r:
            assert r.status == 200
            assert r.headers["Docker-Content-Digest"] == image_digest
        async with http.get(f"{base}/{REPOSITORY}/manifests/latest", headers=mine) as r:
            assert r.status == 200
            assert r.headers["Content-Type"] == "application/vnd.docker.distribution.manifest.v2+json"
            assert r.headers["Docker-Content-Digest"] == image_digest
        # a token for another repository does not open this one
        async with http.head(manifest, headers=node_daemon.bearer("docker.io/fixture/absent")) as r:
            assert r.status == 401
        absent = "docker.io/fixture/absent"
        async with http.get(f"{base}/{absent}/manifests/latest", headers=node_daemon.bearer(absent)) as r:
            assert r.status == 404
            assert (await r.json())["errors"][0]["code"] == "NAME_UNKNOWN"
        async with http.get(f"{base}/{REPOSITORY}/blobs/sha256:{'0' * 64}", headers=mine) as r:
            assert r.status == 404
    assert "Bearer" not in node_daemon.log.read_text()


async def test_blobs_are_served_only_under_their_own_repository(
    node_daemon: NodeDaemon, containerd: Containerd, image_digest: str, tmp_path: Path
) -> None:
    """A token for one repository cannot read another repository's blob by naming its digest."""
    other = tiny_docker_archive(tmp_path / "other.tar", "docker.io/fixture/other:1", "other-" + tmp_path.name)
    containerd.ctr("images", "import", "--no-unpack", str(other.path))
    base = f"http://{node_daemon.address}/v2"
    other_repo = "docker.io/fixture/other"
    try:
        async with aiohttp.ClientSession() as http:
            url = f"{base}/{other_repo}/blobs/{other.layer_digest}"
            async with http.get(url, headers=node_daemon.bearer(other_repo)) as r:
                assert r.status == 200
                assert hashlib.sha256(await r.read()).hexdigest() == other.layer_digest.split(":")[1]
            # the Debian image's token, asking for the other image's layer under the Debian repository
            url = f"{base}/{REPOSITORY}/blobs/{other.layer_digest}"
            async with http.get(url, headers=node_daemon.bearer(REPOSITORY)) as r:
                assert r.status == 404
                assert (await r.json())["errors"][0]["code"] == "BLOB_UNKNOWN"
            url = f"{base}/{REPOSITORY}/manifests/{other.config_digest}"
            async with http.get(url, headers=node_daemon.bearer(REPOSITORY)) as r:
                assert r.status == 404
    finally:
        containerd.ctr("images", "rm", "docker.io/fixture/other:1")


async def test_a_lazily_pulled_image_is_reported_with_its_registry(
    node_daemon: NodeDaemon, containerd: Containerd, kafka_servers: str, tmp_path: Path
) -> None:
    """GKE Image Streaming leaves layers out of the content store: the daemon must not offer the image.

    The real containerd holds the image's manifest and config but not its layer (removed from the
    content store, as a streamed image has it); the daemon reports it with its own registry so the
    engine pulls it from there, and answers BLOB_UNKNOWN for the missing layer.
    """
    name = "docker.io/fixture/streamed"
    image = tiny_docker_archive(tmp_path / "streamed.tar", f"{name}:1", "streamed-" + tmp_path.name)
    containerd.ctr("images", "import", "--no-unpack", str(image.path))
    try:
        containerd.ctr("content", "rm", image.layer_digest)
        async with ContainerdClient(containerd.socket) as client:
            assert await client.blob_info(image.layer_digest) is None
            assert await client.blob_info(image.config_digest) is not None
            found = {i.repository: i for i in await node_images(client)}
        assert found[name].origin == "docker.io"
        assert found[REPOSITORY].origin == ""  # whole in the store: served by the daemon
        env = f"cluster:{node_daemon.cluster}"
        events = await _wait_for_events(
            kafka_servers, [ImageDiscovered], {"environment": env, "repository": "fixture/streamed"}
        )
        sighting = next(e for e in events if isinstance(e, ImageDiscovered))
        assert (sighting.registry, sighting.tag, sighting.digest) == ("docker.io", "1", found[name].digest)
        async with aiohttp.ClientSession() as http:
            url = f"http://{node_daemon.address}/v2/{name}/blobs/{image.layer_digest}"
            async with http.get(url, headers=node_daemon.bearer(name)) as r:
                assert r.status == 404
                assert (await r.json())["errors"][0]["code"] == "BLOB_UNKNOWN"
    finally:
        containerd.ctr("images", "rm", f"{name}:1")


def _inventory(completed: ScanCompleted) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(p.purl, p.found_by, tuple(p.locations)) for p in completed.packages}


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


async def test_image_only_in_containerd_is_scanned_through_the_daemon(
    node_daemon: NodeDaemon, image_digest: str, fixtures: Path, tmp_path: Path
) -> None:
    peak_before_kib = _peak_rss_kib(node_daemon.proc.pid)
    settings = load_settings(
        environ={},
        overrides={
            "data": {"dir": str(tmp_path)},
            "content": {"analyzers": []},
            "registries": [
                RegistryConfig(host="127.0.0.1:*", insecure=True, crawl=False, node_key=node_daemon.key)
            ],
        },
    )
    handler = make_engine_handler(EngineDeps(settings=settings, catalogers=select(), vulndb=None))
    request = ScanRequested(
        scan_id="scan-node-e2e",
        digest=image_digest,
        image_ref=f"{node_daemon.address}/{REPOSITORY}@{image_digest}",
        environments=[f"cluster:{node_daemon.cluster}"],
    )
    out = await handler(request)
    assert len(out) == 1, out
    assert isinstance(out[0].event, ScanCompleted), out
    via_node = out[0].event
    assert via_node.image.digest == image_digest

    source = parse_target(f"oci:{fixtures / 'oci' / 'debian'}", registries=[], platform="linux/amd64")
    async with await source.open() as image:
        via_layout = await detect(image, scan_id="scan-layout", catalogers=select(), vulndb=None)

    names = {p.name for p in via_node.packages}
    assert {"libc6", "openssl", "curl", "Django", "lodash"} <= names
    assert len(via_node.packages) > 150
    assert _inventory(via_node) == _inventory(via_layout)
    assert via_node.image.distro == via_layout.image.distro
    # blobs stream through the daemon: serving 496 MB (layers of 204 and 244 MB) raises its peak
    # memory by far less than one layer
    peak_kib = _peak_rss_kib(node_daemon.proc.pid)
    growth_mib = (peak_kib - peak_before_kib) / 1024
    before_mib, after_mib = peak_before_kib / 1024, peak_kib / 1024
    print(f"node daemon peak RSS: {before_mib:.0f} MiB before the pull, {after_mib:.0f} MiB after")
    assert growth_mib < 100


async def test_a_malformed_digest_is_refused(node_daemon: NodeDaemon) -> None:
    bearer = node_daemon.bearer(REPOSITORY)
    async with aiohttp.ClientSession() as http:
        url = f"http://{node_daemon.address}/v2/{REPOSITORY}/blobs/sha256:xyz"
        async with http.get(url, headers=bearer) as r:
            assert r.status == 400
            assert (await r.json())["errors"][0]["code"] == "DIGEST_INVALID"
