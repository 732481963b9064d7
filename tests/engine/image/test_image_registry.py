"""Pulling from a real registry (distribution 2.8) in its three auth modes, plus failure handling."""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from services.common.config import RegistryConfig
from services.common.errors import LayerError, RegistryError
from services.engine.image.registry_source import RegistrySource
from services.engine.image.targets import parse_target
from services.oci.auth import Challenge, parse_challenge
from services.oci.reference import parse_reference
from services.oci.registry import RegistryClient, RetryPolicy
from tests.engine.image.conftest import Images
from tests.engine.image.test_image_local import assert_alpha, read_layers
from tests.harness.registry import RegistryServer

FAST = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.05)
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def fast_client(registries: Sequence[RegistryConfig]) -> RegistryClient:
    return RegistryClient(registries, retry=FAST)


async def test_pull_oci_manifest(registry: RegistryServer, images: Images) -> None:
    target = f"{registry.host}/fixture/alpha:latest"
    async with await parse_target(target, registries=[registry.config()]).open() as image:
        assert image.info.digest == images.manifest_digest("alpha")  # skopeo kept the manifest as is
        assert {layer.media_type for layer in image.info.layers} == {OCI_LAYER}
        assert_alpha(image.info, images, ref=target)
        await read_layers(image)


async def test_pull_docker_schema2_manifest(registry: RegistryServer, images: Images) -> None:
    target = f"registry:{registry.host}/fixture/alpha:schema2"
    async with await parse_target(target, registries=[registry.config()]).open() as image:
        assert {layer.media_type for layer in image.info.layers} == {DOCKER_LAYER}
        assert_alpha(image.info, images, ref=target)
        await read_layers(image)
    async with RegistryClient([registry.config()]) as client:
        ref = parse_reference(f"{registry.host}/fixture/alpha:schema2")
        fetched = await client.get_manifest(ref)
        assert fetched.media_type == "application/vnd.docker.distribution.manifest.v2+json"
        assert await client.resolve_digest(ref) == fetched.digest == image.info.digest
        by_digest = parse_reference(f"{registry.host}/fixture/alpha@{fetched.digest}")
        assert (await client.get_manifest(by_digest)).data == fetched.data


@pytest.mark.parametrize(
    ("platform", "expected"),
    [("linux/amd64", "alpha"), ("linux/arm64", "beta"), ("linux/arm64/v8", "beta")],
)
async def test_pull_index_chooses_platform(
    registry: RegistryServer, images: Images, platform: str, expected: str
) -> None:
    source = parse_target(f"{registry.host}/fixture/multi", registries=[registry.config()], platform=platform)
    async with await source.open() as image:
        assert image.info.digest == images.manifest_digest(expected)
        await read_layers(image)
    async with RegistryClient([registry.config()]) as client:
        ref = parse_reference(f"{registry.host}/fixture/multi:latest")
        index = await client.get_manifest(ref)
        assert index.media_type == "application/vnd.oci.image.index.v1+json"
        assert image.info.digest != index.digest


async def test_default_platform_is_linux_amd64(registries: dict[str, RegistryServer], images: Images) -> None:
    server = registries["anonymous"]
    source = parse_target(f"{server.host}/fixture/multi", registries=[server.config()])
    async with await source.open() as image:
        assert image.info.platform == "linux/amd64"
        assert image.info.digest == images.manifest_digest("alpha")


@pytest.mark.parametrize("mode", ["basic", "token"])
async def test_wrong_credentials_are_a_401(registries: dict[str, RegistryServer], mode: str) -> None:
    server = registries[mode]
    wrong = server.config(password="wrong")
    source = RegistrySource(f"{server.host}/fixture/alpha", registries=[wrong])
    with pytest.raises(RegistryError, match="wrong credentials") as caught:
        await source.open()
    assert caught.value.status == 401


async def test_basic_without_credentials_is_a_401(registries: dict[str, RegistryServer]) -> None:
    server = registries["basic"]
    source = RegistrySource(f"{server.host}/fixture/alpha", registries=[server.config(username="")])
    with pytest.raises(RegistryError, match="none are configured") as caught:
        await source.open()
    assert caught.value.status == 401


async def test_token_mode_anonymous_pull_and_token_reuse(registries: dict[str, RegistryServer]) -> None:
    server = registries["token"]
    assert server.token is not None
    state = server.token.state
    before = dict(state.issued)
    async with await parse_target(
        f"{server.host}/fixture/beta", registries=[server.config(username="")]
    ).open() as image:
        await read_layers(image)
    issued = {k: v - before.get(k, 0) for k, v in state.issued.items() if v != before.get(k, 0)}
    # one anonymous token for the repository, reused for manifest, config and layers
    assert issued == {("", "repository:fixture/beta:pull"): 1}


async def test_token_from_access_token_field(registries: dict[str, RegistryServer]) -> None:
    server = registries["token"]
    assert server.token is not None
    server.token.state.token_field = "access_token"
    try:
        async with RegistryClient([server.config()]) as client:
            digest = await client.resolve_digest(parse_reference(f"{server.host}/fixture/beta"))
    finally:
        server.token.state.token_field = "both"
    assert digest.startswith("sha256:")


async def test_unknown_tag_is_a_404(registries: dict[str, RegistryServer]) -> None:
    server = registries["anonymous"]
    with pytest.raises(RegistryError, match="MANIFEST_UNKNOWN") as caught:
        await RegistrySource(f"{server.host}/fixture/alpha:nope", registries=[server.config()]).open()
    assert caught.value.status == 404


async def test_not_insecure_means_https_and_a_clear_error(registries: dict[str, RegistryServer]) -> None:
    server = registries["anonymous"]
    secure = RegistryConfig(host=server.host)  # not marked insecure: https only
    source = RegistrySource(f"{server.host}/fixture/alpha", registries=[secure], client_factory=fast_client)
    with pytest.raises(RegistryError, match=f"https://{server.host}/v2/.*mark it insecure"):
        await source.open()


async def test_tampered_layer_blob_is_detected(scratch_registry: RegistryServer) -> None:
    source = RegistrySource(f"{scratch_registry.host}/fixture/alpha", registries=[scratch_registry.config()])
    async with await source.open() as image:
        layer = image.info.layers[0]
        path = scratch_registry.blob_data_path(layer.digest)
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        with pytest.raises(LayerError, match=f"layer {layer.digest}: digest mismatch"):
            async for _ in image.blob(layer):
                pass


async def test_tampered_config_blob_is_detected(scratch_registry: RegistryServer) -> None:
    async with RegistryClient([scratch_registry.config()]) as client:
        ref = parse_reference(f"{scratch_registry.host}/fixture/alpha")
        image = await RegistrySource(str(ref), registries=[scratch_registry.config()]).open()
        await image.aclose()
        path = scratch_registry.blob_data_path(image.info.config_digest)
        path.write_bytes(path.read_bytes().replace(b"FOO=bar", b"FOO=baz"))
        with pytest.raises(RegistryError, match=f"blob {image.info.config_digest}: digest mismatch"):
            await client.read_blob(ref, image.info.config_digest)


@dataclass
class FlakyProxy:
    """A real HTTP server in front of a registry that fails each request's first attempts."""

    upstream: str
    failures: Sequence[int]
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    host: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        key = (request.method, request.path_qs)
        count = self.seen[key] = self.seen.get(key, 0) + 1
        if count <= len(self.failures):
            status = self.failures[count - 1]
            return web.Response(status=status, headers={"Retry-After": "0"} if status == 429 else {})
        if request.path.endswith("/tags/list") and "n" in request.query:
            return await self.paginated_tags(request)
        headers = {k: v for k, v in request.headers.items() if k in ("Accept", "Authorization")}
        async with (
            aiohttp.ClientSession() as session,
            session.request(request.method, self.upstream + request.path_qs, headers=headers) as upstream,
        ):
            body = await upstream.read()
            keep = ("Content-Type", "Docker-Content-Digest", "Link", "WWW-Authenticate")
            out = {k: v for k, v in upstream.headers.items() if k in keep}
            return web.Response(status=upstream.status, body=body or None, headers=out)

    async def paginated_tags(self, request: web.Request) -> web.Response:
        """distribution 2.8 ignores ``n`` on tags/list (v3 and Docker Hub honour it): paginate here."""
        async with aiohttp.ClientSession() as session, session.get(self.upstream + request.path) as upstream:
            doc = await upstream.json()
        tags = sorted(doc["tags"])
        n, last = int(request.query["n"]), request.query.get("last", "")
        page = [t for t in tags if t > last][:n]
        headers = {}
        if page and page[-1] != tags[-1]:
            headers["Link"] = f'<{request.path}?n={n}&last={page[-1]}>; rel="next"'
        return web.json_response({"name": doc["name"], "tags": page}, headers=headers)


async def start_proxy(server: RegistryServer, failures: Sequence[int]) -> tuple[FlakyProxy, web.AppRunner]:
    proxy = FlakyProxy(server.url, failures)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    proxy.host = f"{host}:{port}"
    return proxy, runner


ProxyFactory = Callable[[Sequence[int]], Awaitable[FlakyProxy]]


@pytest.fixture
async def proxy_factory(registries: dict[str, RegistryServer]) -> AsyncIterator[ProxyFactory]:
    """Start flaky proxies in front of the anonymous registry; stop them after the test."""
    runners: list[web.AppRunner] = []

    async def make(failures: Sequence[int]) -> FlakyProxy:
        proxy, runner = await start_proxy(registries["anonymous"], failures)
        runners.append(runner)
        return proxy

    yield make
    for runner in runners:
        await runner.cleanup()


async def test_retries_5xx_and_429_then_succeeds(proxy_factory: ProxyFactory) -> None:
    proxy = await proxy_factory([503, 429])
    config = RegistryConfig(host=proxy.host, insecure=True)
    source = RegistrySource(f"{proxy.host}/fixture/alpha", registries=[config], client_factory=fast_client)
    async with await source.open() as image:
        await read_layers(image)
    blob_requests = {k: v for k, v in proxy.seen.items() if "/blobs/" in k[1]}
    assert len(blob_requests) == 3  # config and two layers
    assert set(proxy.seen.values()) == {3}  # every request: 503, 429, then through


async def test_gives_up_after_bounded_attempts(proxy_factory: ProxyFactory) -> None:
    proxy = await proxy_factory([502, 502, 502, 502])
    config = RegistryConfig(host=proxy.host, insecure=True)
    source = RegistrySource(f"{proxy.host}/fixture/alpha", registries=[config], client_factory=fast_client)
    with pytest.raises(RegistryError, match="HTTP 502") as caught:
        await source.open()
    assert caught.value.status == 502
    assert caught.value.retryable
    assert list(proxy.seen.values()) == [FAST.attempts]


async def test_catalog_and_tags_follow_pagination(
    registries: dict[str, RegistryServer], proxy_factory: ProxyFactory
) -> None:
    proxy = await proxy_factory([])
    async with RegistryClient([RegistryConfig(host=proxy.host, insecure=True)]) as client:
        assert await client.catalog(proxy.host, page_size=1) == [
            "fixture/alpha",
            "fixture/beta",
            "fixture/multi",
        ]
        assert await client.tags(proxy.host, "fixture/multi", page_size=2) == ["amd64", "arm64", "latest"]
        assert sorted(await client.tags(proxy.host, "fixture/alpha")) == ["latest", "schema2"]
    catalog_pages = [k for k in proxy.seen if k[1].startswith("/v2/_catalog")]
    assert len(catalog_pages) == 3  # one repository per page
    tag_pages = [k for k in proxy.seen if k[1].startswith("/v2/fixture/multi/tags/list")]
    assert len(tag_pages) == 2


@pytest.mark.parametrize("mode", ["basic", "token"])
async def test_catalog_with_auth(registries: dict[str, RegistryServer], mode: str) -> None:
    server = registries[mode]
    async with RegistryClient([server.config()]) as client:
        assert await client.catalog(server.host) == ["fixture/alpha", "fixture/beta", "fixture/multi"]
        tags = await client.tags(server.host, "fixture/alpha")
        assert sorted(tags) == ["latest", "schema2"]
        digest = await client.resolve_digest(parse_reference(f"{server.host}/fixture/alpha:latest"))
        manifest = await client.get_manifest(parse_reference(f"{server.host}/fixture/alpha:latest"))
        assert digest == "sha256:" + hashlib.sha256(manifest.data).hexdigest()
    if mode == "token":
        # anonymous tokens carry pull only; the catalog needs registry:catalog:*
        async with RegistryClient([server.config(username="")]) as anonymous:
            with pytest.raises(RegistryError) as caught:
                await anonymous.catalog(server.host)
            assert caught.value.status == 401


def test_parse_challenge_keeps_quoted_commas() -> None:
    header = 'Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"'
    challenge = parse_challenge(header)
    assert challenge.scheme == "bearer"
    assert challenge.params == {
        "realm": "https://auth.example/token",
        "service": "reg",
        "scope": "repository:a/b:pull,push",
    }
    assert parse_challenge('Basic realm="fixture-realm"') == Challenge("basic", {"realm": "fixture-realm"})


def test_retry_policy_backs_off_with_jitter_and_honours_retry_after() -> None:
    policy = RetryPolicy(attempts=5, base_delay_s=1.0, max_delay_s=5.0)
    rng = random.Random(7)
    for attempt, ceiling in enumerate([1.0, 2.0, 4.0, 5.0]):
        delay = policy.delay(attempt, None, rng)
        assert ceiling / 2 <= delay <= ceiling
    assert policy.delay(0, 3.0, rng) == 3.0
    assert policy.delay(0, 60.0, rng) == 5.0  # capped
