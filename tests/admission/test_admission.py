"""The admission gate on ``admission.k8s.io/v1`` AdmissionReview payloads.

The payloads have the shape the API server sends (the Kubernetes documentation's AdmissionReview
example, with a real Pod, Deployment and CronJob as ``request.object``); there is no API server
here, so the webhook is called over HTTPS the way the API server calls it. The store-backed judge
runs on a real PostgreSQL seeded through the store's own writers (tests/harness/seed.py).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from schemas import Finding
from schemas.events import ImageDiscovered
from services.admission.app import make_app, tls_context
from services.admission.gate import Gate, ImageVerdict
from services.admission.judge import store_judge
from services.admission.settings import AdmissionConfig
from services.admission.store import AdmissionReads
from services.common.errors import ConfigError, RegistryError
from services.common.serve import serve_app
from services.common.store.postgres import Store
from tests.harness.registry import free_port
from tests.harness.seed import evaluate, sight
from tests.harness.token_server import make_key_and_cert

BAD = "sha256:" + "b" * 64
GOOD = "sha256:" + "a" * 64
NEW = "sha256:" + "c" * 64
NOW = "2026-12-07T12:00:00Z"


def review(kind: str, obj: dict[str, Any], *, namespace: str = "shop", dry_run: bool = False) -> bytes:
    """An AdmissionReview request as the API server sends it for a CREATE."""
    group = {"Pod": "", "Deployment": "apps", "CronJob": "batch"}[kind]
    version = "v1"
    return msgspec.json.encode(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": {"group": group, "version": version, "kind": kind},
                "resource": {"group": group, "version": version, "resource": kind.lower() + "s"},
                "requestKind": {"group": group, "version": version, "kind": kind},
                "requestResource": {"group": group, "version": version, "resource": kind.lower() + "s"},
                "name": obj["metadata"]["name"],
                "namespace": namespace,
                "operation": "CREATE",
                "userInfo": {"username": "admin", "uid": "014fbff9a07c", "groups": ["system:authenticated"]},
                "object": obj,
                "oldObject": None,
                "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
                "dryRun": dry_run,
            },
        }
    )


def pod_spec(*images: str) -> dict[str, Any]:
    return {
        "initContainers": [{"name": "migrate", "image": images[0]}],
        "containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images[1:] or images)],
    }


def pod(*images: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": pod_spec(*images)}


class Fakes:
    """Registry resolution, verdicts and scan requests the gate is given."""

    def __init__(self, verdicts: dict[str, ImageVerdict], tags: dict[str, str] | None = None) -> None:
        self.verdicts = verdicts
        self.tags = tags or {}
        self.requested: list[ImageDiscovered] = []

    async def resolve(self, image: str) -> str:
        if image not in self.tags:
            raise RegistryError(f"{image}: manifest unknown", status=404)
        return self.tags[image]

    async def judge(self, digest: str, environment: str) -> ImageVerdict:
        assert environment == "cluster:prod-eu"
        return self.verdicts.get(digest, ImageVerdict(state="unknown", detail="not known to Assay yet"))

    async def request_scan(self, event: ImageDiscovered) -> None:
        self.requested.append(event)

    def gate(self, **cfg: Any) -> Gate:
        config = AdmissionConfig(cluster="prod-eu", **cfg)
        return Gate(
            config, resolve=self.resolve, judge=self.judge, request_scan=self.request_scan, now=lambda: NOW
        )


VERDICTS = {
    BAD: ImageVerdict(state="over", detail="over the default ruleset's thresholds: CRITICAL 2 >= 1"),
    GOOD: ImageVerdict(state="clear", detail="within the default thresholds"),
}


def response(body: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = msgspec.json.decode(body)
    assert decoded["apiVersion"] == "admission.k8s.io/v1"
    assert decoded["kind"] == "AdmissionReview"
    assert decoded["response"]["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002"
    return decoded["response"]  # type: ignore[no-any-return]


async def test_an_image_over_threshold_is_denied_naming_it() -> None:
    fakes = Fakes(VERDICTS)
    out = response(await fakes.gate().review(review("Pod", pod(f"r.io/app@{GOOD}", f"r.io/app@{BAD}"))))
    assert out["allowed"] is False
    assert out["status"]["code"] == 403
    assert f"r.io/app@{BAD}" in out["status"]["message"]
    assert "CRITICAL 2" in out["status"]["message"]
    assert fakes.requested == []


async def test_warn_mode_admits_with_a_warning() -> None:
    out = response(await Fakes(VERDICTS).gate(mode="warn").review(review("Pod", pod(f"r.io/app@{BAD}"))))
    assert out["allowed"] is True
    assert any(BAD in w for w in out["warnings"])


@pytest.mark.parametrize(
    ("kind", "obj"),
    [
        (
            "Deployment",
            {"metadata": {"name": "web"}, "spec": {"template": {"spec": pod_spec(f"r.io/a@{BAD}")}}},
        ),
        (
            "CronJob",
            {
                "metadata": {"name": "nightly"},
                "spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec(f"r.io/a@{BAD}")}}}},
            },
        ),
    ],
)
async def test_pod_templates_are_judged_too(kind: str, obj: dict[str, Any]) -> None:
    assert response(await Fakes(VERDICTS).gate().review(review(kind, obj)))["allowed"] is False


async def test_a_tag_is_resolved_and_an_unknown_digest_asked_for() -> None:
    fakes = Fakes(VERDICTS, tags={"r.io/team/new:1.0": NEW})
    out = response(await fakes.gate().review(review("Pod", pod("r.io/team/new:1.0"))))
    assert out["allowed"] is True  # fail-open by default
    assert any("not known to Assay yet" in w for w in out["warnings"])
    sighting = fakes.requested[0]
    assert (sighting.environment, sighting.registry, sighting.repository, sighting.tag, sighting.digest) == (
        "cluster:prod-eu", "r.io", "team/new", "1.0", NEW,
    )  # fmt: skip
    assert sighting.namespace == "shop"


async def test_fail_closed_denies_what_cannot_be_judged_and_dry_runs_ask_for_nothing() -> None:
    fakes = Fakes(VERDICTS)
    out = response(await fakes.gate(fail_closed=True).review(review("Pod", pod("r.io/gone:1"), dry_run=True)))
    assert out["allowed"] is False
    assert "manifest unknown" in out["status"]["message"]
    assert fakes.requested == []


async def test_exempt_namespaces_pass_untouched() -> None:
    fakes = Fakes(VERDICTS)
    out = response(await fakes.gate().review(review("Pod", pod(f"r.io/app@{BAD}"), namespace="kube-system")))
    assert out == {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "allowed": True}


@pytest.fixture
async def https_gate(tmp_path: Path) -> AsyncIterator[tuple[str, ssl.SSLContext]]:
    """The webhook served as ``assay service admission`` serves it (serve_app with TLS)."""
    key, cert = make_key_and_cert(tmp_path)
    port = free_port()
    stop = asyncio.Event()
    app = make_app(Fakes(VERDICTS).gate())
    context = tls_context(str(cert), str(key))
    log = logging.getLogger("test.admission")
    task = asyncio.create_task(
        serve_app(
            app, f"127.0.0.1:{port}", stop, setting="ASSAY_ADMISSION_LISTEN", log=log, ssl_context=context
        )
    )
    client_ctx = ssl.create_default_context(cafile=str(cert))
    client_ctx.check_hostname = False  # the fixture certificate names no IP; the chain is still verified
    url = f"https://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            try:
                async with http.get(f"{url}/healthz", ssl=client_ctx) as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    try:
        yield url, client_ctx
    finally:
        stop.set()
        await task


async def test_the_webhook_answers_over_https(https_gate: tuple[str, ssl.SSLContext]) -> None:
    url, ctx = https_gate
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/validate", data=review("Pod", pod(f"r.io/app@{BAD}")), ssl=ctx) as resp:
            assert resp.status == 200
            assert response(await resp.read())["allowed"] is False
        async with http.post(f"{url}/validate", data=b'{"kind": "Pod"}', ssl=ctx) as resp:
            assert resp.status == 400


def test_tls_is_required() -> None:
    with pytest.raises(ConfigError, match="ASSAY_ADMISSION_TLS_CERT"):
        tls_context("", "")


async def test_the_store_judge_reads_the_policy_verdicts(pg_dsn: str) -> None:
    store = await Store.connect(pg_dsn)
    try:
        for digest in (BAD, GOOD):
            await sight(store, digest=digest, image_ref=f"r.io/app@{digest}", environment="cluster:prod-eu",
                        repository="app")  # fmt: skip
            await store.set_status(digest, "scanned", scan_id=f"scan-{digest[7:12]}")
            await store.save_scan(f"scan-{digest[7:12]}", digest, b'{"ref": "x"}', b"[]", b"[]", "test")
        cve = Finding(
            finding_id=f"{BAD}-cve", category="CVE", id="CVE-2024-1", severity="CRITICAL", title="t"
        )
        alert = Finding(finding_id=f"{BAD}-scan", category="ImageScan", id="threshold", severity="HIGH",
                        title="r.io/app", description="CRITICAL 1 >= 1")  # fmt: skip
        await evaluate(store, BAD, [cve, alert], evaluation_id="seed")
        ok = Finding(finding_id=f"{GOOD}-cve", category="CVE", id="CVE-2024-2", severity="LOW", title="t")
        await evaluate(store, GOOD, [ok], evaluation_id="seed")
        judge = store_judge(AdmissionReads(store.pool), await store.assignments.all())
        assert (await judge(BAD, "cluster:prod-eu")).state == "over"
        assert "CRITICAL 1 >= 1" in (await judge(BAD, "cluster:prod-eu")).detail
        assert (await judge(GOOD, "cluster:prod-eu")).state == "clear"
        assert (await judge(NEW, "cluster:prod-eu")).state == "unknown"
        await store.assignments.assign("environment", "cluster:prod-eu", "strict")  # never evaluated under it
        strict = store_judge(AdmissionReads(store.pool), await store.assignments.all())
        assert (await strict(GOOD, "cluster:prod-eu")).state == "unknown"
    finally:
        await store.close()
