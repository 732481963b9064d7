"""The pure Pod-to-images functions, on pod JSON shaped like ``kubectl get pod -o json`` output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.inventory.kubernetes.pods import (
    ContainerImage,
    ImageKey,
    Sighting,
    Workload,
    controller_of,
    parse_image_id,
    pod_images,
    pull_secret_refs,
    sightings,
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
    web = Workload("Deployment", "shop", "web")
    found = sightings(load("deployment-running.json"), web)
    assert pod_images(load("deployment-running.json")).problems == []
    assert sorted(
        (s.container, s.image.registry, s.image.repository, s.image.digest, s.tag) for s in found
    ) == [
        ("log-shipper", "registry.example.com:5000", "team/log-shipper", SHIPPER, "2.1"),
        ("nginx", "docker.io", "library/nginx", NGINX, "1.25.4"),
        ("wait-for-db", "docker.io", "library/busybox", BUSYBOX, "1.36"),  # the init container counts too
    ]
    assert {s.workload for s in found} == {web}


def test_pending_pod_gives_nothing() -> None:
    assert sightings(load("deployment-pending.json"), Workload("Deployment", "shop", "web")) == []


def test_two_containers_of_one_image_are_two_sightings() -> None:
    pod = load("statefulset-dockershim-running.json")
    helper = {**pod["spec"]["containers"][0], "name": "helper"}
    pod["spec"]["containers"].append(helper)
    pod["status"]["containerStatuses"].append({**pod["status"]["containerStatuses"][0], "name": "helper"})
    found = sightings(pod, Workload("StatefulSet", "data", "cache"))
    assert len({s.image for s in found}) == 1
    assert sorted(s.container for s in found) == sorted(["helper", pod["spec"]["containers"][0]["name"]])
    assert all(isinstance(s, Sighting) for s in found)


def test_dockershim_image_id_and_short_spec_name() -> None:
    found = pod_images(load("statefulset-dockershim-running.json"))
    digest = "sha256:e422889e156ebea83856b6ff973bfe0c86bce867d80def228044eeecf925592b"
    (only,) = found.images
    assert (only.image, only.tag) == (ImageKey("docker.io", "library/redis", digest), "7.2")


def test_ephemeral_container_counts_and_a_local_image_id_falls_back_to_a_pinned_spec_digest() -> None:
    found = pod_images(load("bare-ephemeral-local-id.json"))
    assert [(c.image, c.tag) for c in found.images] == [
        (ImageKey("registry.example.com:5000", "team/api", API), ""),
        (ImageKey("docker.io", "library/busybox", BUSYBOX), "1.36"),
    ]
    assert all(isinstance(c, ContainerImage) and c.container for c in found.images)
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


def test_pull_secrets_are_namespaced_references_in_the_pods_order() -> None:
    pod = load("deployment-running.json")
    assert pull_secret_refs(pod) == ()  # the fixture names none
    pod["spec"]["imagePullSecrets"] = [{"name": "regcred"}, {}, {"name": "gcr"}, {"name": "regcred"}]
    assert pull_secret_refs(pod) == ("shop/regcred", "shop/gcr")
    workload = Workload("Deployment", "shop", "web")
    assert {s.pull_secrets for s in sightings(pod, workload)} == {("shop/regcred", "shop/gcr")}
    pod["spec"]["imagePullSecrets"] = "not a list"
    assert pull_secret_refs(pod) == ()
