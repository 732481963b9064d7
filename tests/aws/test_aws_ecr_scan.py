"""ECR end to end: discover through moto's control plane, scan through the data plane with the ECR token.

moto has no ECR data plane (no ``/v2/``; its ``put_image`` digest is not a content digest), so the
same image goes to two places: its real manifest into moto with ``put_image``, its blobs and
manifest into Debian's docker-registry with Basic auth whose only user is ``AWS`` with the
password moto's ``get_authorization_token`` returns. The registry host override maps
``*.dkr.ecr.*.amazonaws.com`` to that registry. Inventory resolves each tag's digest on the data
plane (the digest the engine will pull); moto's digests are never compared with the registry's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.events import ImageDiscovered, ScanCompleted, ScanFailed, ScanRequested
from services.common.aws import AwsClients
from services.common.config import RegistryConfig
from services.engine.catalogers.registry import select
from services.engine.worker import EngineDeps, make_engine_handler
from services.inventory.aws import EcrPoller
from services.oci.credentials.build import credential_chain, registry_client_factory
from services.oci.ecr import EcrCredentials
from services.oci.registry import RegistryClient
from services.settings import Settings
from tests.harness.moto import ACCOUNT, REGION, MotoServer, ecr_password
from tests.harness.registry import manifest_descriptor, push_image, registry_server, require_tools

ECR_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
REPO = "fixture/alpine"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _layout_manifest(layout: Path) -> bytes:
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":", 1)[1]
    return (layout / "blobs" / "sha256" / digest).read_bytes()


async def _put_in_ecr(clients: AwsClients, manifest: bytes, tags: list[str]) -> None:
    ecr = await clients.client("ecr")
    await ecr.create_repository(repositoryName=REPO)
    await ecr.create_repository(repositoryName="fixture/empty")
    for tag in tags:
        await ecr.put_image(
            repositoryName=REPO,
            imageManifest=manifest.decode(),
            imageManifestMediaType=OCI_MANIFEST,
            imageTag=tag,
        )


@pytest.fixture
def data_plane(tmp_path: Path, fixtures: Path) -> Any:
    """The ECR data plane stand-in: a Basic-auth registry accepting only ECR's ``AWS`` + token."""
    require_tools("docker-registry", "skopeo", "htpasswd")
    with registry_server(tmp_path / "reg", "basic", username="AWS", password=ecr_password()) as reg:
        push_image(reg, f"oci:{fixtures}/oci/alpine:latest", f"{REPO}:latest")
        push_image(reg, f"oci:{fixtures}/oci/alpine:latest", f"{REPO}:v1")
        yield reg


async def test_ecr_images_are_discovered_and_scanned_with_the_ecr_token(
    moto: MotoServer, aws_clients: AwsClients, data_plane: Any, fixtures: Path
) -> None:
    await _put_in_ecr(aws_clients, _layout_manifest(fixtures / "oci" / "alpine"), ["latest", "v1"])
    settings = Settings(
        # the data plane is plain HTTP; it has no username: the credentials come from ECR
        registries=[RegistryConfig(host=data_plane.host, insecure=True, crawl=False)],
        aws=moto.aws_config(ecr=True, registry_host_overrides={"*.dkr.ecr.*.amazonaws.com": data_plane.host}),
    )
    creds = EcrCredentials(aws_clients, margin_s=settings.aws.ecr_token_margin_s)
    chain = credential_chain(settings.credentials, settings.registries, ecr=creds)
    make_client = registry_client_factory(chain, settings.aws.registry_host_overrides)
    async with make_client(settings.registries) as client:
        events = (await EcrPoller(aws_clients, settings.aws, client).poll()).events

    real_digest, _, _ = manifest_descriptor(data_plane, REPO, "latest")
    assert all(isinstance(e, ImageDiscovered) for e in events)
    assert sorted((e.environment, e.registry, e.repository, e.tag, e.digest) for e in events) == [
        (f"registry:{ECR_HOST}", ECR_HOST, REPO, "latest", real_digest),
        (f"registry:{ECR_HOST}", ECR_HOST, REPO, "v1", real_digest),
    ]
    assert all(e.size_bytes > 0 for e in events)  # imageSizeInBytes from describe_images
    assert creds.token_calls >= 1  # resolving on the data plane used the ECR token

    # the engine pulls registry/repository@digest as dedupe would ask it to
    calls_before = creds.token_calls
    deps = EngineDeps(
        settings=settings, catalogers=select(), vulndb=None, registry_client_factory=make_client
    )
    request = ScanRequested(scan_id="s1", digest=real_digest, image_ref=f"{ECR_HOST}/{REPO}@{real_digest}")
    [out] = await make_engine_handler(deps)(request)
    assert isinstance(out.event, ScanCompleted), out.event
    assert out.event.image.digest == real_digest
    apk = {p.name for p in out.event.packages if p.type == "apk"}
    assert len(apk) == 9
    assert {"zlib", "apk-tools"} <= apk
    assert creds.token_calls > calls_before  # moto's token is expired on arrival: fetched again


async def test_without_the_ecr_token_the_data_plane_refuses(
    moto: MotoServer, aws_clients: AwsClients, data_plane: Any
) -> None:
    settings = Settings(
        registries=[RegistryConfig(host=data_plane.host, insecure=True, crawl=False)],
        aws=moto.aws_config(registry_host_overrides={"*.dkr.ecr.*.amazonaws.com": data_plane.host}),
    )
    real_digest, _, _ = manifest_descriptor(data_plane, REPO, "latest")

    def plain(registries: Any) -> RegistryClient:  # overrides, but no credentials provider
        return RegistryClient(registries, host_overrides=settings.aws.registry_host_overrides)

    deps = EngineDeps(settings=settings, catalogers=select(), vulndb=None, registry_client_factory=plain)
    request = ScanRequested(scan_id="s2", digest=real_digest, image_ref=f"{ECR_HOST}/{REPO}@{real_digest}")
    [out] = await make_engine_handler(deps)(request)
    assert isinstance(out.event, ScanFailed)
    assert "credentials" in out.event.error
