"""Credential providers: docker config.json, credential helpers, pull secrets, the chain.

The helpers are shell scripts in ``testdata/bin`` speaking the docker-credential-helpers protocol;
the config.json and Secrets are shaped as docker and ``kubectl get secret -o yaml`` write them.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
import yaml

from services.common.config import RegistryConfig
from services.common.errors import ConfigError, RegistryError
from services.oci.credentials.base import CredentialChain, Credentials, registry_host_of
from services.oci.credentials.dockerconfig import DockerConfigCredentials, parse_docker_config
from services.oci.credentials.helpers import HelperRunner
from services.oci.credentials.pullsecrets import PullSecretCredentials, parse_pull_secret
from services.oci.credentials.static import StaticCredentials

TESTDATA = Path(__file__).parent / "testdata"
BIN = str(TESTDATA / "bin")
CONFIG = TESTDATA / "docker" / "config.json"
SECRET = "helper-s3cret-value"


@pytest.fixture
def helper_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIXTURE_HELPER_SERVER", "helped.example.com")
    monkeypatch.setenv("FIXTURE_HELPER_USER", "helper-user")
    monkeypatch.setenv("FIXTURE_HELPER_SECRET", SECRET)


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("https://index.docker.io/v1/", "registry-1.docker.io"),
        ("docker.io", "registry-1.docker.io"),
        ("https://registry.example.com:5000/v2/", "registry.example.com:5000"),
        ("Registry.Example.com", "registry.example.com"),
        ("ghcr.io/team", "ghcr.io"),
    ],
)
def test_keys_name_api_hosts(key: str, host: str) -> None:
    assert registry_host_of(key) == host


async def test_config_json_auths_by_host(helper_env: None) -> None:
    provider = DockerConfigCredentials.from_file(str(CONFIG), helpers=HelperRunner(search_path=BIN))
    assert await provider.credentials("registry-1.docker.io") == Credentials("hub-user", "hub-password")
    assert await provider.credentials("registry.example.com:5000") == Credentials("alice", "wonderland")
    token = await provider.credentials("token.example.com")
    assert token is not None
    assert token.identity_token == "identity-refresh-token-1"
    assert token.password == ""
    assert await provider.credentials("registry.example.com") is None  # another port: another host
    assert await provider.credentials("elsewhere.example") is None


async def test_cred_helpers_answer_for_their_host(helper_env: None) -> None:
    provider = DockerConfigCredentials.from_file(str(CONFIG), helpers=HelperRunner(search_path=BIN))
    assert await provider.credentials("helped.example.com") == Credentials("helper-user", SECRET)
    # gcr.io's helper (docker-credential-gcloud) is not installed: a clear error naming it
    with pytest.raises(RegistryError, match=r"docker-credential-gcloud for gcr\.io: not found"):
        await provider.credentials("gcr.io")


async def test_creds_store_with_auths_fallback(tmp_path: Path, helper_env: None) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"credsStore": "fixture", "auths": {"other.example": {"username": "u", "password": "p"}}})
    )
    provider = DockerConfigCredentials.from_file(str(config), helpers=HelperRunner(search_path=BIN))
    assert await provider.credentials("helped.example.com") == Credentials("helper-user", SECRET)
    # the store says "not found": the file's own entry answers
    assert await provider.credentials("other.example") == Credentials("u", "p")
    assert await provider.credentials("none.example") is None


async def test_helper_identity_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIXTURE_HELPER_SERVER", "https://index.docker.io/v1/")  # Docker Hub's server URL
    monkeypatch.setenv("FIXTURE_HELPER_USER", "<token>")
    monkeypatch.setenv("FIXTURE_HELPER_SECRET", "refresh-me")
    found = await HelperRunner(search_path=BIN).get("fixture", "https://index.docker.io/v1/")
    assert found == Credentials("<token>", identity_token="refresh-me")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credHelpers": {"docker.io": "fixture"}}))
    provider = DockerConfigCredentials.from_file(str(config), helpers=HelperRunner(search_path=BIN))
    assert await provider.credentials("registry-1.docker.io") == found


async def test_a_failing_helper_never_shows_what_it_printed(
    helper_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runner = HelperRunner(search_path=BIN)
    with pytest.raises(RegistryError) as failed:
        await runner.get("leaky", "helped.example.com")
    assert "exit status 3" in str(failed.value)
    assert SECRET not in str(failed.value)
    chain = CredentialChain([StaticCredentials([]), _HelperProvider(runner, "leaky")])
    assert await chain.credentials("helped.example.com") is None  # logged and skipped
    assert "leaky" in caplog.text
    assert SECRET not in caplog.text


async def test_a_hung_helper_is_killed() -> None:
    with pytest.raises(RegistryError, match=r"no answer within 0.5s \(killed\)"):
        await HelperRunner(timeout_s=0.5, search_path=BIN).get("slow", "helped.example.com")


async def test_helper_names_cannot_be_paths() -> None:
    with pytest.raises(RegistryError, match="not a helper name"):
        await HelperRunner(search_path=BIN).get("../../bin/sh", "x")


def test_broken_config_json_names_the_file_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps({"auths": {"reg.example": {"auth": "bm90LWEtcGFpcg=="}}}))  # "not-a-pair"
    with pytest.raises(ConfigError, match=r"config.json: auths\['reg.example'\]: 'auth' is not base64"):
        DockerConfigCredentials.from_file(str(bad))
    bad.write_text(json.dumps({"auths": {"reg.example": {"auth": 5}}}))
    with pytest.raises(ConfigError, match=r"not a docker config\.json"):
        parse_docker_config(bad.read_bytes(), "config.json")
    with pytest.raises(ConfigError, match="cannot read"):
        DockerConfigCredentials.from_file(str(tmp_path / "absent.json"))


async def test_config_json_is_read_again_when_it_changes(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {"reg.example": {"username": "old", "password": "1"}}}))
    provider = DockerConfigCredentials.from_file(str(config))
    assert await provider.credentials("reg.example") == Credentials("old", "1")
    config.write_text(json.dumps({"auths": {"reg.example": {"username": "new", "password": "22"}}}))
    assert await provider.credentials("reg.example") == Credentials("new", "22")


def _secret(name: str) -> tuple[str, dict[str, str]]:
    doc = yaml.safe_load((TESTDATA / "secrets" / name).read_text())
    return doc["type"], doc["data"]


async def test_pull_secrets_dockerconfigjson_and_dockercfg() -> None:
    store = PullSecretCredentials()
    store.put("shop/regcred", parse_pull_secret(*_secret("regcred.yaml"), "secret shop/regcred"))
    store.put("shop/legacy", parse_pull_secret(*_secret("legacy-dockercfg.yaml"), "secret shop/legacy"))
    pod = store.for_secrets(["shop/regcred", "shop/legacy"])
    assert await pod.credentials("registry.corp.example") == Credentials("deploy", "d3ploy!")
    assert await pod.credentials("legacy.example.com") == Credentials("old", "timer")
    glob = await pod.credentials("europe.pkg.example")
    assert glob is not None
    assert glob.username == "_json_key"
    # another pod naming only the legacy secret never gets regcred's credentials
    other = store.for_secrets(["shop/legacy"])
    assert await other.credentials("registry.corp.example") is None
    store.discard("shop/legacy")
    assert await other.credentials("legacy.example.com") is None


def test_non_pull_secrets_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"secret shop/db: type 'Opaque' is not an image pull secret"):
        parse_pull_secret(*_secret("opaque.yaml"), "secret shop/db")
    with pytest.raises(ConfigError, match=r"no '\.dockerconfigjson'"):
        parse_pull_secret("kubernetes.io/dockerconfigjson", {}, "secret a/b")
    with pytest.raises(ConfigError, match="is not base64"):
        parse_pull_secret("kubernetes.io/dockercfg", {".dockercfg": "%%%"}, "secret a/b")


async def test_static_credentials_and_robot_accounts() -> None:
    robot = RegistryConfig(host="harbor.example", username="robot$team+assay", password="r0bot")
    nodes = RegistryConfig(host="10.*:5050", username="assay", password="t")
    static = StaticCredentials([robot, nodes, RegistryConfig(host="anon.example")])
    assert await static.credentials("harbor.example") == Credentials("robot$team+assay", "r0bot")
    assert await static.credentials("10.0.0.7:5050") == Credentials("assay", "t")
    assert await static.credentials("anon.example") is None
    assert "r0bot" not in repr(await static.credentials("harbor.example"))


async def test_chain_order_first_answer_wins(helper_env: None) -> None:
    configured = StaticCredentials([RegistryConfig(host="helped.example.com", username="cfg", password="x")])
    helper = DockerConfigCredentials.from_file(str(CONFIG), helpers=HelperRunner(search_path=BIN))
    assert await CredentialChain([configured, helper]).credentials("helped.example.com") == Credentials(
        "cfg", "x"
    )
    assert await CredentialChain([helper, configured]).credentials("helped.example.com") == Credentials(
        "helper-user", SECRET
    )


class _HelperProvider:
    """A provider that always asks one helper (to put a failing helper in a chain)."""

    def __init__(self, runner: HelperRunner, helper: str) -> None:
        self.name = f"helper {helper}"
        self._runner = runner
        self._helper = helper

    async def credentials(self, host: str) -> Credentials | None:
        return await self._runner.get(self._helper, host)


def test_helpers_are_executable() -> None:
    for name in ("fixture", "leaky", "slow"):
        assert shutil.which(f"docker-credential-{name}", path=BIN), name
