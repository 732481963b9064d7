"""Workload context: sightings keep cluster, namespace, workload, container and pod count; the API
answers which workloads run an image and which images a workload runs; findings list the
workloads affected (issue 14, defect 5)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from schemas import Finding
from schemas.events import ImageDiscovered, ImageRemoved
from services.common.store import Store
from services.dedupe.service import Dedupe, DedupeConfig
from tests.api.seed import BOOTSTRAP_HEADERS, bootstrapped_app
from tests.harness.seed import evaluate

A, B = "sha256:" + "1" * 64, "sha256:" + "2" * 64


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


def _pod(
    digest: str, workload: str, container: str, pods: int, *, kind: str = "Deployment"
) -> ImageDiscovered:
    return ImageDiscovered(
        environment="cluster:prod",
        registry="r.example",
        repository=f"team/{container}",
        digest=digest,
        namespace="payments",
        workload_kind=kind,
        workload=workload,
        container=container,
        pod_count=pods,
    )


async def _get(url: str, path: str) -> Any:
    async with aiohttp.ClientSession(headers=BOOTSTRAP_HEADERS) as http, http.get(f"{url}{path}") as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_which_workloads_run_an_image_and_which_images_a_workload_runs(store: Store) -> None:
    dedupe = Dedupe(store, DedupeConfig(analysis_version="v1"))
    await dedupe.handle_batch(
        [
            _pod(A, "api", "app", 3),
            _pod(B, "api", "sidecar", 3),
            _pod(A, "worker", "app", 1, kind="StatefulSet"),
            ImageDiscovered(
                environment="registry:r.example", registry="r.example", repository="team/app", digest=A
            ),
        ]
    )
    await evaluate(
        store,
        A,
        [Finding(finding_id="fa", category="CVE", id="CVE-2024-1", severity="HIGH", title="CVE-2024-1")],
        evaluation_id="scan-a",
    )
    server = TestServer(bootstrapped_app(store), host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    try:
        body = await _get(url, f"/v1/images/{A}/workloads")
        assert [(w["cluster"], w["namespace"], w["kind"], w["name"], w["container"], w["pod_count"])
                for w in body["items"]] == [
            ("prod", "payments", "Deployment", "api", "app", 3),
            ("prod", "payments", "StatefulSet", "worker", "app", 1),
        ]  # fmt: skip
        body = await _get(url, "/v1/workloads/prod/payments/deployment/api/images")
        assert [(i["digest"], i["container"], i["status"]) for i in body["items"]] == [
            (A, "app", "pending"),
            (B, "sidecar", "pending"),
        ]
        [finding] = (await _get(url, "/v1/findings"))["items"]
        assert [(w["kind"], w["name"]) for w in finding["workloads"]] == [
            ("Deployment", "api"),
            ("StatefulSet", "worker"),
        ]

        # the last pod of A under team/app in that cluster goes away: its workloads there go too
        await dedupe.handle(ImageRemoved(environment="cluster:prod", digest=A, repository="team/app"))
        assert (await _get(url, f"/v1/images/{A}/workloads"))["items"] == []
        body = await _get(url, "/v1/workloads/prod/payments/Deployment/api/images")
        assert [i["digest"] for i in body["items"]] == [B]
    finally:
        await server.close()
