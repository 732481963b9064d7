"""``ClusterState``: pod counts per sighting and what each change publishes (pure; no API server)."""

from __future__ import annotations

from services.inventory.kubernetes.pods import ImageKey, Sighting, Workload
from services.inventory.kubernetes.state import ClusterState

APP = ImageKey("example.com", "app", "sha256:" + "a" * 64)
WEB = Workload("Deployment", "shop", "web")
DEBUG = Workload("Pod", "shop", "debug")


def s(workload: Workload, container: str = "main", tag: str = "1.0", image: ImageKey = APP) -> Sighting:
    return Sighting(image=image, tag=tag, workload=workload, container=container)


def test_replicas_are_counted_and_published_once_per_take() -> None:
    state = ClusterState()
    for uid in ("a", "b", "c"):
        state.update(uid, "shop", [s(WEB), s(WEB, "sidecar")])
    diff = state.take()
    assert diff.removed == []
    assert diff.discovered == [(s(WEB), 3), (s(WEB, "sidecar"), 3)]
    assert state.take().discovered == []  # nothing changed since
    state.update("c", "shop", [])
    assert state.take().discovered == [(s(WEB), 2), (s(WEB, "sidecar"), 2)]


def test_a_sighting_gone_while_the_image_runs_on_is_an_unlink_then_the_rest() -> None:
    state = ClusterState()
    state.update("a", "shop", [s(WEB)])
    state.update("d", "shop", [s(DEBUG)])
    state.take()
    state.update("d", "shop", [])
    diff = state.take()
    assert diff.removed == [APP]
    assert diff.discovered == [(s(WEB), 1)]  # linked again: the store dropped the debug pod's row


def test_the_last_pod_gone_unlinks_and_a_new_tag_relinks() -> None:
    state = ClusterState()
    state.update("a", "shop", [s(WEB)])
    state.take()
    state.update("a", "shop", [s(WEB, tag="1.1")])  # same digest, the spec now names another tag
    diff = state.take()
    assert (diff.removed, diff.discovered) == ([APP], [(s(WEB, tag="1.1"), 1)])
    state.update("a", "shop", [])
    diff = state.take()
    assert (diff.removed, diff.discovered) == ([APP], [])
    assert state.pods() == []
