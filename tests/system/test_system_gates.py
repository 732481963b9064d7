"""Issue 19 on the deployment-faithful harness: the chart's admission webhook and Harbor adapter.

The chart rendered with ``admission.enabled`` and ``harbor.enabled`` (both off by default). With
no cert-manager in the cluster the chart generates the webhook's CA and serving certificate
itself; the harness mounts the rendered Secret into the admission pod as the kubelet would, and
starts both Deployments exactly as rendered (the adapter's init container builds its advisory
database first). The test then plays the API server: it calls the webhook at the rendered
Service's DNS name over HTTPS, trusting only the rendered ``caBundle``, with a real
``AdmissionReview`` v1 for a pod running an image Assay has not scanned, and gets the review back
(fail-open: allowed) while the webhook asks for a scan of the digest on ``assay.inventory.v1``.
Harbor's side: the adapter answers ``GET /api/v1/metadata`` as Harbor's registration does.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from schemas.events import ImageDiscovered
from schemas.topics import Topics
from services.common.store.postgres import Store
from tests.admission.test_admission import review
from tests.pipeline.harness import read_topic
from tests.system.cluster import pod
from tests.system.endpoints import Endpoints
from tests.system.kubelet import Kubelet, running_fleet
from tests.system.scenario import registry_digest
from tests.system.tls_registry import TlsRegistry
from tests.system.workloads import k8s_secrets, rendered_workloads

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(900)]

VALUES = {"admission": {"enabled": True}, "harbor": {"enabled": True}}
GATES = ("assay-admission", "assay-harbor")


def _webhook(rendered: Path) -> dict[str, Any]:
    """The rendered ValidatingWebhookConfiguration's one webhook."""
    docs = [d for p in rendered.glob("*.yaml") for d in yaml.safe_load_all(p.read_text()) if d]
    (config,) = [d for d in docs if d["kind"] == "ValidatingWebhookConfiguration"]
    (webhook,) = config["webhooks"]
    return dict(webhook)


async def _post_until_up(url: str, body: bytes, ctx: ssl.SSLContext, host: str, limit_s: float = 300) -> Any:
    """POST ``body`` as the API server does (TLS verified for the Service's name ``host``)."""
    deadline = time.monotonic() + limit_s
    while True:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    url,
                    data=body,
                    headers={"Content-Type": "application/json"},
                    ssl=ctx,
                    server_hostname=host,
                ) as response,
            ):
                assert response.status == 200, await response.text()
                return json.loads(await response.text())
        except aiohttp.ClientConnectorError:
            assert time.monotonic() < deadline, f"the webhook at {url} never answered"
            await asyncio.sleep(1.0)


async def _get_until_up(url: str, limit_s: float = 300) -> Any:
    deadline = time.monotonic() + limit_s
    while True:
        try:
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                assert response.status == 200, await response.text()
                return json.loads(await response.text())
        except aiohttp.ClientConnectorError:
            assert time.monotonic() < deadline, f"{url} never answered"
            await asyncio.sleep(1.0)


async def test_the_rendered_webhook_answers_over_https_and_the_adapter_registers(
    registry: TlsRegistry, endpoints: Endpoints, tmp_path_factory: pytest.TempPathFactory
) -> None:
    host = registry.host
    web = registry_digest(host, "shop/web:1.0")
    rendered = tmp_path_factory.mktemp("rendered")
    workloads = [w for w in rendered_workloads(VALUES, rendered) if w.name in GATES]
    assert sorted(w.name for w in workloads) == sorted(GATES)
    webhook = _webhook(rendered)
    service = webhook["clientConfig"]["service"]
    ca = base64.b64decode(webhook["clientConfig"]["caBundle"]).decode()
    deployment = Endpoints(
        **{**endpoints.__dict__, "secrets": {**endpoints.secrets, **k8s_secrets(rendered)}}
    )
    store = await Store.connect(endpoints.pg_dsn)  # the schema, as the other workloads would have made it
    await store.close()
    async with running_fleet(Kubelet(deployment, tmp_path_factory.mktemp("fleet")), workloads) as fleet:
        listen = fleet.env("assay-admission")["ASSAY_ADMISSION_LISTEN"]
        trusted = ssl.create_default_context(cadata=ca)
        running = pod("shop", "web-1", image=f"{host}/shop/web:1.0", digest=web, deployment="web")
        answer = await _post_until_up(
            f"https://{listen}{service['path']}",
            review("Pod", running),
            trusted,
            f"{service['name']}.{service['namespace']}.svc",
        )
        deadline = time.monotonic() + 300
        while not fleet.started():  # the adapter's init container builds its database first
            assert time.monotonic() < deadline, f"the adapter never started: {fleet.events}"
            await asyncio.sleep(1.0)
        harbor = fleet.env("assay-harbor")["ASSAY_HARBOR_LISTEN"]
        metadata = await _get_until_up(f"http://{harbor}/api/v1/metadata")
        restarts = list(fleet.events)
    assert answer["apiVersion"] == "admission.k8s.io/v1"
    assert answer["response"]["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002"
    assert answer["response"]["allowed"] is True  # unknown to Assay; fail-open by default
    assert webhook["failurePolicy"] == "Ignore"
    assert webhook["sideEffects"] == "NoneOnDryRun"
    sightings = await read_topic(endpoints.kafka_bootstrap, Topics.INVENTORY)
    asked = [e for _, e in sightings if isinstance(e, ImageDiscovered) and e.digest == web]
    assert asked, "the webhook asks for a scan of the digest it did not know"
    assert metadata["scanner"]["name"] == "Assay"
    # the database the init container built, as the adapter reports it to Harbor
    assert metadata["properties"]["harbor.scanner-adapter/vulnerability-database-updated-at"]
    assert restarts == []  # both started as rendered, first time
