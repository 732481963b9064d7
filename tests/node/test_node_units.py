"""The daemon's pure parts: image names, inventory events from two looks, the token checks, settings."""

from __future__ import annotations

import base64
import time

import pytest

from schemas.events import ImageDiscovered, ImageRemoved
from services.common.errors import ConfigError, ReferenceError_
from services.node.auth import token_matches
from services.node.images import NodeImage, inventory_events, split_image_name
from services.node.service import node_config
from services.oci.node_names import origin_of, served_repository
from services.oci.nodetoken import generate_keypair, load_private_key, mint
from services.oci.reference import parse_reference
from services.settings import load_settings

D1, D2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64


def test_image_names_keep_their_registry() -> None:
    assert split_image_name("docker.io/fixture/debian:latest") == ("docker.io/fixture/debian", "latest", "")
    assert split_image_name("nginx") == ("docker.io/library/nginx", "latest", "")
    # a registry's port is joined with "_": "<daemon>/127.0.0.1:5000/app@..." would not parse
    assert split_image_name(f"127.0.0.1:5000/app@{D1}") == ("127.0.0.1_5000/app", "", D1)
    with pytest.raises(ReferenceError_):
        split_image_name(D1)  # CRI's image-id records are not references


@pytest.mark.parametrize(
    ("registry", "repository", "served"),
    [
        ("docker.io", "library/nginx", "docker.io/library/nginx"),
        ("127.0.0.1:5000", "team/app", "127.0.0.1_5000/team/app"),
        ("Registry.Internal:443", "a/b/c", "registry.internal_443/a/b/c"),
        ("localhost:5000", "app", "localhost_5000/app"),
        ("ghcr.io", "org/tool", "ghcr.io/org/tool"),
    ],
)
def test_served_repositories_parse_and_name_their_registry(
    registry: str, repository: str, served: str
) -> None:
    assert served_repository(registry, repository) == served
    assert origin_of(served) == (registry.lower(), repository)
    ref = parse_reference(f"10.0.0.5:5050/{served}@{D1}")  # what the engine is asked to pull
    assert (ref.registry, ref.repository) == ("10.0.0.5:5050", served)


def test_a_repository_without_a_registry_has_no_origin() -> None:
    assert origin_of("team/app") is None
    assert origin_of("app") is None


def test_a_lazily_pulled_image_from_a_registry_with_a_port_is_reported_under_it() -> None:
    image = NodeImage("127.0.0.1_5000/team/app", "1", D1, origin="127.0.0.1:5000")
    assert image.source("10.0.0.5:5050") == ("127.0.0.1:5000", "team/app")
    assert NodeImage("127.0.0.1_5000/team/app", "1", D1).source("10.0.0.5:5050") == (
        "10.0.0.5:5050",
        "127.0.0.1_5000/team/app",
    )


def test_every_image_is_reported_and_gone_ones_removed_once_per_repository() -> None:
    before = [
        NodeImage("docker.io/a", "1", D1),
        NodeImage("docker.io/a", "2", D1),
        NodeImage("docker.io/b", "1", D2),
    ]
    after = [NodeImage("docker.io/a", "2", D1, size=10)]
    events = inventory_events(after, before, environment="cluster:c", registry="10.0.0.5:5050", now="T")
    assert events == [
        ImageDiscovered(
            environment="cluster:c",
            registry="10.0.0.5:5050",
            repository="docker.io/a",
            tag="2",
            digest=D1,
            discovered_at="T",
            size_bytes=10,
        ),
        ImageRemoved(
            environment="cluster:c",
            digest=D2,
            repository="docker.io/b",
            registry="10.0.0.5:5050",
            removed_at="T",
        ),
    ]
    with_ou = inventory_events(
        after, [], environment="cluster:c", registry="10.0.0.5:5050", now="T", ou="retail"
    )
    assert [e.ou for e in with_ou if isinstance(e, ImageDiscovered)] == ["retail"]


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer s3cret-token", True),
        ("bearer s3cret-token", True),
        ("Basic " + base64.b64encode(b"assay:s3cret-token").decode(), True),
        ("Basic " + base64.b64encode(b"s3cret-token").decode(), False),  # no user:password pair
        ("Basic " + base64.b64encode(b"assay:wrong").decode(), False),
        ("Basic !!!notbase64", False),
        ("Bearer s3cret-token-longer", False),
        ("Token s3cret-token", False),
        ("", False),
    ],
)
def test_token_check(header: str, ok: bool) -> None:
    assert token_matches(header, "s3cret-token") is ok


def test_an_empty_token_never_matches() -> None:
    assert token_matches("Bearer ", "") is False


def test_node_settings_from_the_environment() -> None:
    settings = load_settings(
        environ={
            "ASSAY_NODE_NAME": "n1",
            "ASSAY_NODE_CLUSTER": "prod",
            "ASSAY_NODE_TOKEN": "t",
            "ASSAY_NODE_LISTEN": "0.0.0.0:5050",
            "ASSAY_NODE_ADVERTISE": "10.0.0.5:5050",
            "ASSAY_NODE_REPORT_INTERVAL_S": "30",
            "ASSAY_CONTAINERD_SOCKET": "/run/k3s/containerd/containerd.sock",
        }
    )
    cfg = node_config(settings)
    assert (cfg.environment, cfg.advertise, cfg.host, cfg.port, cfg.interval_s) == (
        "cluster:prod",
        "10.0.0.5:5050",
        "0.0.0.0",
        5050,
        30.0,
    )
    assert cfg.socket == "/run/k3s/containerd/containerd.sock"
    assert cfg.namespace == "k8s.io"


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"ASSAY_NODE_TOKEN": "t"}, "ASSAY_NODE_CLUSTER"),
        ({"ASSAY_NODE_CLUSTER": "c"}, "ASSAY_NODE_PUBLIC_KEY"),
        (
            {
                "ASSAY_NODE_CLUSTER": "c",
                "ASSAY_NODE_ADVERTISE": "10.0.0.5:5050",
                "ASSAY_NODE_PUBLIC_KEY": "c2hvcnQ=",
            },
            "ASSAY_NODE_PUBLIC_KEY: an Ed25519 key",
        ),
        ({"ASSAY_NODE_CLUSTER": "c", "ASSAY_NODE_TOKEN": "t"}, "ASSAY_NODE_ADVERTISE"),
        ({"ASSAY_NODE_CLUSTER": "c", "ASSAY_NODE_TOKEN": "t", "ASSAY_NODE_LISTEN": "x"}, "ASSAY_NODE_LISTEN"),
    ],
)
def test_missing_node_settings_are_named(environ: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        node_config(load_settings(environ=environ))


def test_a_lazily_pulled_image_is_reported_with_its_own_registry() -> None:
    streamed = NodeImage("docker.io/library/nginx", "1.27", D1, size=5, origin="docker.io")
    served = NodeImage("127.0.0.1:5000/app", "1", D2)
    events = inventory_events(
        [streamed, served], [], environment="cluster:c", registry="10.0.0.5:5050", now="T"
    )
    assert [(e.registry, e.repository, e.digest) for e in events] == [
        ("docker.io", "library/nginx", D1),
        ("10.0.0.5:5050", "127.0.0.1:5000/app", D2),
    ]
    gone = inventory_events([], [streamed], environment="cluster:c", registry="10.0.0.5:5050", now="T")
    assert gone == [
        ImageRemoved(
            environment="cluster:c",
            digest=D1,
            repository="library/nginx",
            registry="docker.io",
            removed_at="T",
        )
    ]


def test_a_public_key_selects_signed_tokens() -> None:
    private, public = generate_keypair()
    settings = load_settings(
        environ={
            "ASSAY_NODE_CLUSTER": "prod",
            "ASSAY_NODE_ADVERTISE": "10.0.0.5:5050",
            "ASSAY_NODE_PUBLIC_KEY": public,
            "ASSAY_NODE_TOKEN": "legacy",
        }
    )
    cfg = node_config(settings)
    assert cfg.auth.signed
    assert not cfg.auth.allows("Bearer legacy", "docker.io/a")  # the shared token no longer opens it
    token = mint(load_private_key(private), "10.0.0.5:5050", "docker.io/a", time.time())
    assert cfg.auth.allows(f"Bearer {token}", "docker.io/a")
    assert cfg.auth.challenge("docker.io/a") == (
        'Bearer realm="assay-node",service="10.0.0.5:5050",scope="repository:docker.io/a:pull"'
    )
