"""Per-node, per-repository pull tokens: what a daemon accepts, and what the engine sends where.

The engine side runs ``RegistryClient`` against an aiohttp stand-in for two node daemons (the real
daemon on containerd is in ``test_node_daemon.py``): each daemon gets a token naming itself.
"""

from __future__ import annotations

import base64
import json

import pytest
from aiohttp import web

from services.common.config import RegistryConfig
from services.common.errors import ConfigError, RegistryError
from services.node.auth import NodeAuth
from services.oci.nodetoken import (
    TOKEN_LIFETIME_S,
    NodeTokenMinter,
    generate_keypair,
    load_private_key,
    load_public_key,
    may_pull,
    mint,
    verify,
)
from services.oci.reference import parse_reference
from services.oci.registry import RegistryClient
from tests.oci.fakes import serve

PRIVATE, PUBLIC = generate_keypair()
NODE = "10.0.0.5:5050"
REPO = "docker.io/library/nginx"
NOW = 1_800_000_000.0


def _auth(now: float = NOW) -> NodeAuth:
    return NodeAuth(audience=NODE, public_key=load_public_key(PUBLIC), clock=lambda: now)


def test_a_token_opens_its_node_and_repository_only() -> None:
    token = mint(load_private_key(PRIVATE), NODE, REPO, NOW)
    auth = _auth()
    assert auth.allows(f"Bearer {token}", REPO)
    assert auth.allows(f"Bearer {token}", None)  # the /v2/ version check
    assert not auth.allows(f"Bearer {token}", "docker.io/library/redis")
    other_node = NodeAuth(audience="10.0.0.6:5050", public_key=load_public_key(PUBLIC), clock=lambda: NOW)
    assert not other_node.allows(f"Bearer {token}", REPO)
    basic = base64.b64encode(f"assay:{token}".encode()).decode()
    assert not auth.allows(f"Basic {basic}", REPO)


def test_expired_future_forged_and_tampered_tokens_are_refused() -> None:
    key = load_private_key(PRIVATE)
    assert not _auth(NOW + TOKEN_LIFETIME_S + 31).allows(f"Bearer {mint(key, NODE, REPO, NOW)}", REPO)
    assert not _auth(NOW - 120).allows(f"Bearer {mint(key, NODE, REPO, NOW)}", REPO)
    forged_key, _ = generate_keypair()
    assert not _auth().allows(f"Bearer {mint(load_private_key(forged_key), NODE, REPO, NOW)}", REPO)
    header, payload, signature = mint(key, NODE, REPO, NOW).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["access"][0]["name"] = "docker.io/library/redis"
    swapped = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert verify(load_public_key(PUBLIC), f"{header}.{swapped}.{signature}", NODE, NOW) is None
    assert verify(load_public_key(PUBLIC), "not-a-token", NODE, NOW) is None


def test_a_long_lived_token_is_refused_even_when_signed() -> None:
    """Only this module's lifetime is accepted, so a stolen key cannot make a year-long token."""
    token = mint(load_private_key(PRIVATE), NODE, REPO, NOW)
    claims = verify(load_public_key(PUBLIC), token, NODE, NOW)
    assert claims is not None
    assert may_pull(claims, REPO)
    assert claims.exp - claims.iat == TOKEN_LIFETIME_S


def test_keys_are_checked_by_name() -> None:
    with pytest.raises(ConfigError, match="ASSAY_NODE_PUBLIC_KEY: not base64"):
        load_public_key("%%%")
    with pytest.raises(ConfigError, match="node_key: an Ed25519 key is 32 bytes, not 3"):
        load_private_key(base64.b64encode(b"abc").decode())


def test_the_minter_caches_per_node_and_repository() -> None:
    clock = [NOW]
    minter = NodeTokenMinter(lambda host: PRIVATE if host.endswith(":5050") else "", clock=lambda: clock[0])
    first = minter(NODE, f"repository:{REPO}:pull")
    assert first is not None
    assert minter(NODE, f"repository:{REPO}:pull") == first
    assert minter("10.0.0.6:5050", f"repository:{REPO}:pull") != first
    assert minter(NODE, "registry:catalog:*") is None  # a node has no catalog
    assert minter("registry.example", f"repository:{REPO}:pull") is None  # not a node daemon
    clock[0] += TOKEN_LIFETIME_S  # past half its life: a new one
    assert minter(NODE, f"repository:{REPO}:pull") != first


async def test_the_engine_sends_each_node_a_token_for_itself() -> None:
    """Two daemons behind one ``*`` pattern: each sees a token whose audience is its own address."""
    seen: list[tuple[str, str]] = []
    apps: dict[str, web.Application] = {}

    def daemon() -> web.Application:
        async def manifest(request: web.Request) -> web.Response:
            header = request.headers.get("Authorization", "")
            seen.append((request.host, header))
            auth = NodeAuth(audience=request.host, public_key=load_public_key(PUBLIC))
            repository = request.match_info["name"]
            if not auth.allows(header, repository):
                return web.Response(status=401, headers={"WWW-Authenticate": auth.challenge(repository)})
            return web.Response(status=200, headers={"Docker-Content-Digest": "sha256:" + "c" * 64})

        app = web.Application()
        app.router.add_route("HEAD", "/v2/{name:.+}/manifests/{ref}", manifest)
        return app

    apps["a"], apps["b"] = daemon(), daemon()
    async with serve(apps["a"]) as a, serve(apps["b"]) as b:
        nodes = RegistryConfig(host="127.0.0.1:*", insecure=True, crawl=False, node_key=PRIVATE)
        async with RegistryClient([nodes]) as client:
            for host in (a, b):
                digest = await client.resolve_digest(parse_reference(f"{host}/{REPO}:1.27"))
                assert digest == "sha256:" + "c" * 64
        unkeyed = RegistryConfig(host="127.0.0.1:*", insecure=True, crawl=False)
        async with RegistryClient([unkeyed]) as client:
            with pytest.raises(RegistryError, match="realm is not an http"):
                await client.resolve_digest(parse_reference(f"{a}/{REPO}:1.27"))
    keyed = [(host, header) for host, header in seen if header]
    assert {host for host, _ in keyed} == {a, b}
    for host, header in keyed:  # each token opens its own node and no other
        other = b if host == a else a
        assert NodeAuth(audience=host, public_key=load_public_key(PUBLIC)).allows(header, REPO)
        assert not NodeAuth(audience=other, public_key=load_public_key(PUBLIC)).allows(header, REPO)
