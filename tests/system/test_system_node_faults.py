"""Scenario 4, the node daemon: SIGKILL of ``assay-node`` (``node.enabled``) mid-way through its
work, as deployed.

The chart rendered with the node DaemonSet on (its token from a Secret, as ``node.tokenSecret``
names it) and the engines' registries Secret naming the node daemons (``*:5050``, plain HTTP, the
token as password), over a real containerd holding the Debian image (the node's runtime socket,
a hostPath in the cluster). The node daemon is killed right after its first report, while the
scan request it caused waits for an engine; the restart policy starts it again, it reports the
node's images again, and the engines pull the image from the restarted daemon: the image is
scanned once, its findings stored and published once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.containerd import Containerd, containerd_server
from tests.harness.fake_kube import FakeKube
from tests.system.endpoints import Endpoints
from tests.system.kubelet import Kubelet, running_fleet
from tests.system.scenario import assert_nothing_lost_or_doubled, until_logged, wait_for_images
from tests.system.workloads import rendered_workloads

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(900)]

TOKEN = secrets.token_urlsafe(24)
NODE_TOKEN = ("assay-node-token", "token")
REGISTRIES = ("assay-registries", "registries")
VALUES = {
    "node": {"enabled": True, "tokenSecret": NODE_TOKEN[0]},
    "registries": {"existingSecret": REGISTRIES[0]},
}


@pytest.fixture(scope="module")
def containerd(fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containerd]:
    """The node's containerd, holding the Debian fixture image (content only)."""
    with containerd_server(tmp_path_factory.mktemp("containerd")) as ctrd:
        ctrd.ctr("images", "import", "--no-unpack", str(fixtures / "debian-docker.tar"))
        yield ctrd


async def test_the_node_daemon_killed_after_its_report_comes_back_and_its_image_is_scanned_once(
    endpoints: Endpoints, kube: FakeKube, containerd: Containerd, tmp_path_factory: pytest.TempPathFactory
) -> None:
    registries = [
        {"host": "*:5050", "insecure": True, "username": "assay", "password": TOKEN, "crawl": False}
    ]
    cluster_secrets = {**endpoints.secrets, NODE_TOKEN: TOKEN, REGISTRIES: json.dumps(registries)}
    deployment = Endpoints(
        **{**endpoints.__dict__, "containerd_socket": containerd.socket, "secrets": cluster_secrets}
    )
    workloads = rendered_workloads(VALUES, tmp_path_factory.mktemp("rendered"))
    assert "assay-node" in {w.name for w in workloads}
    async with running_fleet(Kubelet(deployment, tmp_path_factory.mktemp("fleet")), workloads) as fleet:
        reported = "node: reported"
        await until_logged(fleet, "assay-node", reported)
        fleet.kill("assay-node", logged=reported)
        (image,) = await wait_for_images(endpoints.pg_dsn, fleet, 1)
        node_log = fleet.logs("assay-node")
        events = list(fleet.events)
    assert image["status"] == "scanned", events
    assert ":5050/" in image["image_ref"]  # pulled from the node daemon
    assert [e for e in events if e.startswith("assay-node") and "killed by SIGKILL" in e], events
    assert node_log.count(reported) >= 2  # the restarted daemon reported the node's images again
    by_digest = await assert_nothing_lost_or_doubled(
        endpoints.kafka_bootstrap, endpoints.pg_dsn, (image["digest"],)
    )
    assert by_digest[image["digest"]], "the image's findings"
