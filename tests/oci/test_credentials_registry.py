"""Each credential provider pulling from a registry that wants exactly its scheme.

Harbor robot accounts, docker config.json helpers and GAR/GCR access tokens against Debian's
``docker-registry`` (Basic auth with the provider's user name); the token exchanges against the
faithful fakes in ``fakes.py`` (ACR's ``/oauth2/exchange`` and ``/oauth2/token``, the GCE metadata
server), since neither Azure nor Google runs here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web

from services.common.config import RegistryConfig
from services.common.errors import ConfigError, RegistryError
from services.oci.credentials.acr import ACR_USERNAME, AcrCredentials
from services.oci.credentials.base import CredentialChain, Credentials
from services.oci.credentials.build import clients_for
from services.oci.credentials.dockerconfig import DockerConfigCredentials
from services.oci.credentials.gcp import GcpCredentials
from services.oci.credentials.helpers import HelperRunner
from services.oci.credentials.static import StaticCredentials
from services.oci.reference import parse_reference
from services.oci.registry import RegistryClient
from services.settings import load_settings
from tests.oci.conftest import BasicRegistry
from tests.oci.fakes import MANIFEST_DIGEST, AcrState, MetadataState, acr_app, gce_metadata_app, serve

BIN = str(Path(__file__).parent / "testdata" / "bin")


def _bare(server_host: str) -> RegistryConfig:
    """The registry's configuration without credentials: they must come from the provider."""
    return RegistryConfig(host=server_host, insecure=True)


async def _resolves(client: RegistryClient, host: str, repository: str = "fixture/alpine") -> str:
    return await client.resolve_digest(parse_reference(f"{host}/{repository}:latest"))


async def test_harbor_robot_account(basic_registry: BasicRegistry) -> None:
    robot = "robot$team+assay"
    with basic_registry(robot, "r0bot-secret") as server:
        config = RegistryConfig(host=server.host, insecure=True, username=robot, password="r0bot-secret")
        async with RegistryClient([config]) as client:
            assert (await _resolves(client, server.host)).startswith("sha256:")
        wrong = RegistryConfig(host=server.host, insecure=True, username=robot, password="nope")
        async with RegistryClient([wrong]) as client:
            with pytest.raises(RegistryError, match="401"):
                await _resolves(client, server.host)


async def test_config_json_credential_helper(
    basic_registry: BasicRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with basic_registry("helped", "via-helper") as server:
        monkeypatch.setenv("FIXTURE_HELPER_SERVER", server.host)
        monkeypatch.setenv("FIXTURE_HELPER_USER", "helped")
        monkeypatch.setenv("FIXTURE_HELPER_SECRET", "via-helper")
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"auths": {server.host: {}}, "credHelpers": {server.host: "fixture"}}))
        chain = CredentialChain(
            [DockerConfigCredentials.from_file(str(config), helpers=HelperRunner(search_path=BIN))]
        )
        async with RegistryClient([_bare(server.host)], credentials_provider=chain) as client:
            assert (await _resolves(client, server.host)).startswith("sha256:")


async def test_settings_build_the_chain(basic_registry: BasicRegistry, tmp_path: Path) -> None:
    """``ASSAY_CREDENTIALS_DOCKER_CONFIG`` through ``load_settings`` to a client that pulls with it."""
    with basic_registry("plain", "from-file") as server:
        config = tmp_path / "config.json"
        entry = {"username": "plain", "password": "from-file"}
        config.write_text(json.dumps({"auths": {f"http://{server.host}/v2/": entry}}))
        settings = load_settings(
            {"ASSAY_CREDENTIALS_DOCKER_CONFIG": str(config), "ASSAY_REGISTRIES": f"{server.host};insecure"}
        )
        async with clients_for(settings)(settings.registries) as client:
            assert (await _resolves(client, server.host)).startswith("sha256:")
    config.write_text("{not json")
    with pytest.raises(ConfigError, match=r"docker config .*config\.json: not a docker config\.json"):
        clients_for(settings)


async def test_gar_token_from_the_metadata_server(basic_registry: BasicRegistry) -> None:
    metadata = MetadataState(token="ya29.fixture-access-token")
    async with serve(gce_metadata_app(metadata)) as metadata_host:
        with basic_registry("oauth2accesstoken", metadata.token) as server:
            gcp = GcpCredentials(metadata_url=f"http://{metadata_host}", extra_hosts=["127.0.0.1:*"])
            async with RegistryClient(
                [_bare(server.host)], credentials_provider=CredentialChain([gcp])
            ) as client:
                assert (await _resolves(client, server.host)).startswith("sha256:")
                await _resolves(client, server.host)
    assert metadata.calls == 1  # cached until shortly before expires_in
    assert await gcp.credentials("europe-docker.pkg.dev") == Credentials("oauth2accesstoken", metadata.token)
    assert await gcp.credentials("ghcr.io") is None  # never offered to another registry


async def test_gar_token_file_and_metadata_flavor(basic_registry: BasicRegistry, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("ya29.from-gcloud\n")
    with basic_registry("oauth2accesstoken", "ya29.from-gcloud") as server:
        gcp = GcpCredentials(token_file=str(token_file), extra_hosts=["127.0.0.1:*"])
        async with RegistryClient(
            [_bare(server.host)], credentials_provider=CredentialChain([gcp])
        ) as client:
            assert (await _resolves(client, server.host)).startswith("sha256:")
    # a server that is not a metadata server (no Metadata-Flavor on its answer) is not believed
    app = web.Application()
    app.router.add_get("/computeMetadata/v1/instance/service-accounts/default/token", _json_without_flavor)
    async with serve(app) as not_metadata:
        impostor = GcpCredentials(metadata_url=f"http://{not_metadata}")
        with pytest.raises(RegistryError, match="lacks Metadata-Flavor: Google"):
            await impostor.credentials("gcr.io")


async def _json_without_flavor(request: web.Request) -> web.Response:
    return web.json_response({"access_token": "from-anyone", "expires_in": 60})


def _acr(host_aad: str, *, tenant: str = "") -> AcrCredentials:
    token_file = Path(host_aad)
    return AcrCredentials(
        token_file=str(token_file), tenant=tenant, extra_hosts=["127.0.0.1:*"], scheme=lambda host: "http"
    )


async def test_acr_exchange_then_docker_token_flow(tmp_path: Path) -> None:
    aad = tmp_path / "aad-token"
    aad.write_text("eyJ.aad-access-token.sig")
    state = AcrState(aad_token="eyJ.aad-access-token.sig", tenant="contoso-tenant")
    async with serve(acr_app(state)) as host:
        acr = _acr(str(aad), tenant="contoso-tenant")
        for _ in range(2):  # a second client reuses the cached refresh token
            async with RegistryClient([_bare(host)], credentials_provider=CredentialChain([acr])) as client:
                ref = parse_reference(f"{host}/app:1")
                assert await client.resolve_digest(ref) == MANIFEST_DIGEST
    assert acr.exchanges == 1
    assert state.exchanges == [
        {
            "grant_type": "access_token",
            "service": host,
            "access_token": state.aad_token,
            "tenant": "contoso-tenant",
        }
    ]
    assert state.token_requests == ["GET basic", "GET basic"]
    found = await acr.credentials(host)
    assert found is not None
    assert found.username == ACR_USERNAME
    assert await acr.credentials("myregistry.azurecr.io.evil.example") is None


async def test_acr_refuses_a_wrong_aad_token_clearly(tmp_path: Path) -> None:
    aad = tmp_path / "aad-token"
    aad.write_text("stale-token")
    async with serve(acr_app(AcrState(aad_token="the-right-one"))) as host:
        with pytest.raises(RegistryError, match=r"ACR token exchange: HTTP 401") as failed:
            await _acr(str(aad)).credentials(host)
    assert "stale-token" not in str(failed.value)


async def test_identity_token_is_traded_with_a_refresh_token_grant(tmp_path: Path) -> None:
    """docker's ``identitytoken``: POST grant_type=refresh_token to the realm, never Basic."""
    state = AcrState(aad_token="unused")
    async with serve(acr_app(state)) as host:
        state.refresh_tokens.add("identity-from-config-json")
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"auths": {host: {"identitytoken": "identity-from-config-json"}}}))
        chain = CredentialChain([DockerConfigCredentials.from_file(str(config))])
        async with RegistryClient([_bare(host)], credentials_provider=chain) as client:
            assert await client.resolve_digest(parse_reference(f"{host}/app:1")) == MANIFEST_DIGEST
    assert state.token_requests == ["POST refresh_token"]


async def test_static_credentials_win_and_stay_on_their_host(basic_registry: BasicRegistry) -> None:
    with basic_registry("mine", "only-mine") as server:
        chain = CredentialChain(
            [
                StaticCredentials(
                    [RegistryConfig(host=server.host, insecure=True, username="mine", password="only-mine")]
                )
            ]
        )
        assert await chain.credentials("127.0.0.1:1") is None  # another port of the same address
        async with RegistryClient([_bare(server.host)], credentials_provider=chain) as client:
            assert (await _resolves(client, server.host)).startswith("sha256:")
