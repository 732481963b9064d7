"""Where registry credentials may go, and what a hostile registry can make the client do.

Against the real token-auth registry (Debian's ``docker-registry``, whose token realm is
another host:port) and small aiohttp servers playing a hostile registry and the host it
points at.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import msgspec
import pytest
from aiohttp import web

from services.common.config import RegistryConfig
from services.common.errors import LayerError, RegistryError
from services.oci.reference import parse_reference
from services.oci.registry import RegistryClient
from tests.harness.registry import RegistryServer
from tests.hostile.builders import sha256

SECRET = base64.b64encode(b"ci:hunter2").decode()


async def test_credentials_never_go_to_a_realm_on_another_host(registries: dict[str, RegistryServer]) -> None:
    server = registries["token"]
    assert server.token is not None
    unlisted = msgspec.structs.replace(server.config(), auth_hosts=[])  # the realm is another host:port
    issued = dict(server.token.state.issued)
    async with RegistryClient([unlisted]) as client:
        refused = r"token from http:.*: refused: credentials go only to the registry.s own host"
        with pytest.raises(RegistryError, match=refused):
            await client.resolve_digest(parse_reference(f"{server.host}/fixture/beta"))
    assert server.token.state.issued == issued  # the realm was never asked


async def test_a_listed_realm_host_gets_the_credentials(registries: dict[str, RegistryServer]) -> None:
    server = registries["token"]
    assert server.token is not None
    async with RegistryClient([server.config()]) as client:
        assert await client.catalog(server.host)  # the catalog needs an authenticated token
    assert any(user == server.username for user, _ in server.token.state.issued)


@pytest.mark.parametrize(
    ("config", "realm", "with_credentials", "refused"),
    [
        (RegistryConfig(host="reg.example"), "https://reg.example/token", True, None),
        (RegistryConfig(host="reg.example"), "http://reg.example/token", True, "plain HTTP"),
        (RegistryConfig(host="reg.example"), "http://reg.example/token", False, "plain HTTP"),
        (RegistryConfig(host="reg.example", insecure=True), "http://reg.example/token", True, None),
        (RegistryConfig(host="reg.example"), "https://evil.example/token", True, "not to evil.example"),
        (RegistryConfig(host="reg.example"), "https://evil.example/token", False, None),
        (RegistryConfig(host="reg.example"), "https://reg.example:444/token", True, "not to reg.example:444"),
        (RegistryConfig(host="reg.example", auth_hosts=["gl.example"]), "https://gl.example/jwt", True, None),
        (RegistryConfig(host="docker.io"), "https://auth.docker.io/token", True, None),
        (RegistryConfig(host="reg.example"), "https://user@reg.example/token", True, "not an http"),
        (RegistryConfig(host="reg.example"), "file:///etc/passwd", False, "not an http"),
    ],
)
def test_realm_policy(
    config: RegistryConfig, realm: str, with_credentials: bool, refused: str | None
) -> None:
    client = RegistryClient([config])
    answer = client._realm_refusal(config.host, realm, with_credentials)
    if refused is None:
        assert answer is None
    else:
        assert answer is not None
        assert refused in answer


@dataclass
class Recorder:
    """An HTTP server that records each request's path and Authorization header."""

    respond: Callable[[web.Request], web.StreamResponse]
    seen: list[tuple[str, str]] = field(default_factory=list)
    host: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.path_qs, request.headers.get("Authorization", "")))
        return self.respond(request)


async def start(recorder: Recorder, runners: list[web.AppRunner]) -> Recorder:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    runners.append(runner)
    host, port = runner.addresses[0][:2]
    recorder.host = f"{host}:{port}"
    return recorder


@pytest.fixture
async def runners() -> AsyncIterator[list[web.AppRunner]]:
    started: list[web.AppRunner] = []
    yield started
    for runner in started:
        await runner.cleanup()


def basic_registry(body: dict[str, object], link: Callable[[], str]) -> Callable[[web.Request], web.Response]:
    def respond(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Basic {SECRET}":
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="hostile"'})
        return web.json_response(body, headers={"Link": link()} if link() else {})

    return respond


async def test_catalog_link_to_another_origin_is_not_followed(runners: list[web.AppRunner]) -> None:
    injected = Recorder(lambda r: web.json_response({"repositories": ["injected/repo"]}))
    elsewhere = await start(injected, runners)
    link = f'<http://{elsewhere.host}/v2/_catalog?last=a>; rel="next"'
    hostile = await start(Recorder(basic_registry({"repositories": ["a"]}, lambda: link)), runners)
    config = RegistryConfig(host=hostile.host, insecure=True, username="ci", password="hunter2")
    async with RegistryClient([config]) as client:
        with pytest.raises(RegistryError, match=f"refused to follow http://{elsewhere.host}/v2/_catalog"):
            await client.catalog(hostile.host)
    assert elsewhere.seen == []  # neither the credentials nor a request reached the other host
    assert ("/v2/_catalog", f"Basic {SECRET}") in hostile.seen


async def test_catalog_link_on_the_same_origin_is_followed(runners: list[web.AppRunner]) -> None:
    pages = iter([["a"], ["b"]])

    def respond(request: web.Request) -> web.Response:
        page = next(pages)
        headers = {"Link": '</v2/_catalog?last=a>; rel="next"'} if page == ["a"] else {}
        return web.json_response({"repositories": page}, headers=headers)

    registry = await start(Recorder(respond), runners)
    async with RegistryClient([RegistryConfig(host=registry.host, insecure=True)]) as client:
        assert await client.catalog(registry.host) == ["a", "b"]


async def test_a_blob_stream_is_cut_at_the_declared_size(runners: list[web.AppRunner]) -> None:
    big = bytes(8 << 20)
    digest = sha256(big)
    registry = await start(Recorder(lambda r: web.Response(body=big)), runners)
    ref = parse_reference(f"{registry.host}/x/y:1")
    received: list[int] = []

    async def consume(client: RegistryClient) -> None:
        async for chunk in client.stream_blob(ref, digest, size=1024):
            received.append(len(chunk))

    async with RegistryClient([RegistryConfig(host=registry.host, insecure=True)]) as client:
        with pytest.raises(LayerError, match="more than the declared 1024 bytes"):
            await consume(client)
    assert received == []  # the first chunk already passed the declared size: nothing handed on
