"""The pure Pod-to-images functions, on pod JSON shaped like ``kubectl get pod -o json`` output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.inventory.kubernetes.pods import (
    ImageKey,
    Workload,
    controller_of,
    discovered_events,
    parse_image_id,
    pod_images,
)

TESTDATA = Path(__file__).parent / "testdata" / "pods"
NGINX = "sha256:9ff236ed47fe39cf1f0acf349d0e5137f8b8a6fd0b46e5117a401010e56222e1"
BUSYBOX = "sha256:c3839dd800b9eb7603340509769c43e146a74c63dca3045a8e7dc8ee07e53966"
SHIPPER = "sha256:9b2a4f7c1d3e5a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b"
API = "sha256:25f166467fb3acd01d0e2870534492ceef0409d67a6fb0f89d7ab42f1169ebee"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TESTDATA / name).read_text())
    return data


@pytest.mark.parametrize(
    ("image_id", "expected"),
    [
        (f"docker.io/library/nginx@{NGINX}", ImageKey("docker.io", "library/nginx", NGINX)),
        (f"docker-pullable://nginx@{NGINX}", ImageKey("docker.io", "library/nginx", NGINX)),
        (f"docker-pullable://quay.io/org/app@{NGINX}", ImageKey("quay.io", "org/app", NGINX)),
        (f"127.0.0.1:5000/team/api@{API}", ImageKey("127.0.0.1:5000", "team/api", API)),
        (f"docker://sha256:{'a' * 64}", None),  # the local image ID: a config digest
        (f"sha256:{'a' * 64}", None),
        ("docker.io/library/nginx@sha256:short", None),
        ("", None),
    ],
)
def test_parse_image_id(image_id: str, expected: ImageKey | None) -> None:
    assert parse_image_id(image_id) == expected


def test_running_deployment_pod_gives_every_container_image_with_its_spec_tag() -> None:
    events, problems = discovered_events(
        load("deployment-running.json"),
        environment="cluster:prod-eu",
        workload=Workload("Deployment", "shop", "web"),
        discovered_at="2024-05-02T10:15:00Z",
    )
    assert problems == []
    got = {(e.registry, e.repository, e.digest, e.tag) for e in events}
    assert got == {
        ("docker.io", "library/busybox", BUSYBOX, "1.36"),  # the init container counts too
        ("docker.io", "library/nginx", NGINX, "1.25.4"),
        ("registry.example.com:5000", "team/log-shipper", SHIPPER, "2.1"),
    }
    assert {(e.environment, e.namespace, e.workload_kind, e.workload) for e in events} == {
        ("cluster:prod-eu", "shop", "Deployment", "web")
    }


def test_pending_pod_gives_nothing() -> None:
    events, problems = discovered_events(
        load("deployment-pending.json"),
        environment="cluster:c",
        workload=Workload("Deployment", "shop", "web"),
        discovered_at="",
    )
    assert events == []
    assert problems == []


def test_dockershim_image_id_and_short_spec_name() -> None:
    found = pod_images(load("statefulset-dockershim-running.json"))
    digest = "sha256:e422889e156ebea83856b6ff973bfe0c86bce867d80def228044eeecf925592b"
    assert found.images == [(ImageKey("docker.io", "library/redis", digest), "7.2")]


def test_ephemeral_container_counts_and_a_local_image_id_falls_back_to_a_pinned_spec_digest() -> None:
    found = pod_images(load("bare-ephemeral-local-id.json"))
    assert found.images == [
        (ImageKey("registry.example.com:5000", "team/api", API), ""),
        (ImageKey("docker.io", "library/busybox", BUSYBOX), "1.36"),
    ]
    # the "tool" container runs a locally built image: only its config digest is known
    assert len(found.problems) == 1
    assert "pod default/debug-target: container tool" in found.problems[0]
    assert "names no repository digest" in found.problems[0]


def test_malformed_pod_is_problems_not_a_crash() -> None:
    pod = load("malformed.json")
    found = pod_images(pod)
    assert found.images == []
    assert sorted(p.split(": ")[1] for p in found.problems) == [
        "container bad-digest",
        "container no-image-id",
        "container upper-case",
    ]
    assert controller_of(pod) is None


def test_controller_reference() -> None:
    ref = controller_of(load("deployment-running.json"))
    assert ref is not None
    assert (ref.kind, ref.name) == ("ReplicaSet", "web-7c5ddbdf54")
