"""ECR crawls publish deltas: moto's ECR control plane, tags and repositories deleted between passes.

moto speaks ECR's real API (``describe_repositories``, ``describe_images``, ``batch_delete_image``,
``delete_repository``); its ``imageDigest`` is used as is (no data plane is involved here).
"""

from __future__ import annotations

import json

from schemas.events import ImageDiscovered, ImageRemoved, InventoryEvent
from services.common.aws import AwsClients
from services.inventory.aws import EcrPoller
from services.inventory.deltas import Deltas
from services.oci.registry import RegistryClient
from tests.harness.moto import ACCOUNT, REGION, MotoServer

HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def manifest(n: int) -> str:
    """A small, real-shaped OCI manifest; ``n`` makes it distinct."""
    blob = {
        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
        "digest": f"sha256:{n:064x}",
        "size": n,
    }
    config = {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": f"sha256:{n + 1:064x}",
        "size": 2,
    }
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [blob]})


def brief(events: list[InventoryEvent]) -> list[tuple[str, str, str]]:
    return sorted((type(e).__name__, e.repository, getattr(e, "tag", "")) for e in events)


async def test_deleted_tags_and_repositories_are_removed_on_the_next_pass(
    moto: MotoServer, aws_clients: AwsClients
) -> None:
    ecr = await aws_clients.client("ecr")
    for repo in ("team/app", "team/old"):
        await ecr.create_repository(repositoryName=repo)
    for repo, tag, n in (
        ("team/app", "1.0", 1),
        ("team/app", "latest", 1),
        ("team/app", "2.0", 5),
        ("team/old", "1", 9),
    ):
        await ecr.put_image(
            repositoryName=repo, imageManifest=manifest(n), imageManifestMediaType=OCI_MANIFEST, imageTag=tag
        )
    deltas = Deltas()
    async with RegistryClient([]) as client:
        poller = EcrPoller(aws_clients, moto.aws_config(ecr=True), client)
        first = await poller.poll()
        assert first.environments == {f"registry:{HOST}"}
        assert brief(deltas.changes(first, full=True)) == [
            ("ImageDiscovered", "team/app", "1.0"),
            ("ImageDiscovered", "team/app", "2.0"),
            ("ImageDiscovered", "team/app", "latest"),
            ("ImageDiscovered", "team/old", "1"),
        ]
        assert deltas.changes(await poller.poll()) == []

        await ecr.batch_delete_image(repositoryName="team/app", imageIds=[{"imageTag": "1.0"}])
        await ecr.delete_repository(repositoryName="team/old", force=True)
        events = deltas.changes(await poller.poll())
    # 1.0's image is still tagged latest: unlinked, then linked again with latest; team/old is gone
    assert brief(events) == [
        ("ImageDiscovered", "team/app", "latest"),
        ("ImageRemoved", "team/app", ""),
        ("ImageRemoved", "team/old", ""),
    ]
    removed = [e for e in events if isinstance(e, ImageRemoved)]
    relinked = [e for e in events if isinstance(e, ImageDiscovered)]
    assert removed[0].digest == relinked[0].digest
    assert events.index(removed[0]) < events.index(relinked[0])  # the unlink comes first
