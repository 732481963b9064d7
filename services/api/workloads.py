"""Workload context on the API: which workloads run an image, which images a workload runs.

- ``GET /v1/images/{digest}/workloads``: the cluster workloads running the image (cluster,
  namespace, kind, name, container, pod count);
- ``GET /v1/workloads/{cluster}/{namespace}/{kind}/{name}/images``: the images that workload runs,
  with their scan status. Findings list their image's workloads too (``FindingView.workloads``).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from aiohttp import web

from services.api.models import Problem
from services.api.openapi_parts import json_body, path_param
from services.api.scoped import reads_for
from services.api.store import Reads, Workload, WorkloadImage

__all__ = ["ImageWorkloads", "WorkloadImages", "add_workload_routes", "workload_openapi"]

_READS: Final = web.AppKey("workload_reads", Reads)
_ENCODER: Final = msgspec.json.Encoder()
_IMAGES_PATH: Final = "/v1/workloads/{cluster}/{namespace}/{kind}/{name}/images"


class ImageWorkloads(msgspec.Struct, frozen=True, kw_only=True):
    """The workloads running one image."""

    digest: str
    items: list[Workload]


class WorkloadImages(msgspec.Struct, frozen=True, kw_only=True):
    """The images one workload runs."""

    cluster: str
    namespace: str
    kind: str
    name: str
    items: list[WorkloadImage]


def _json(body: msgspec.Struct) -> web.Response:
    return web.Response(body=_ENCODER.encode(body), content_type="application/json")


def _not_found(message: str) -> web.Response:
    body = _ENCODER.encode(Problem(status=404, error=message))
    return web.Response(body=body, status=404, content_type="application/json")


async def _image_workloads(request: web.Request) -> web.Response:
    digest = request.match_info["digest"]
    reads = reads_for(request, _READS)
    if reads.scope.limited and await reads.image(digest) is None:  # another team's image: not found
        return _not_found(f"no image with digest {digest!r}")
    return _json(ImageWorkloads(digest=digest, items=await reads.workloads_of(digest)))


async def _workload_images(request: web.Request) -> web.Response:
    m = request.match_info
    reads = reads_for(request, _READS)
    if not await reads.covers(f"cluster:{m['cluster'].removeprefix('cluster:')}"):
        return _not_found(f"cluster {m['cluster']!r} is outside the caller's environments")
    found = await reads.images_of(
        cluster=m["cluster"], namespace=m["namespace"], kind=m["kind"], name=m["name"]
    )
    return _json(
        WorkloadImages(
            cluster=m["cluster"], namespace=m["namespace"], kind=m["kind"], name=m["name"], items=found
        )
    )


def add_workload_routes(app: web.Application, reads: Reads) -> None:
    """Add the workload routes to the API application."""
    app[_READS] = reads
    app.router.add_get("/v1/images/{digest}/workloads", _image_workloads, allow_head=False)
    app.router.add_get(_IMAGES_PATH, _workload_images, allow_head=False)


def workload_openapi(ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI paths of these routes and the schemas they reference (``ref_template``)."""
    (workloads, images, problem), components = msgspec.json.schema_components(
        [ImageWorkloads, WorkloadImages, Problem], ref_template=ref_template
    )

    down = json_body(problem, "PostgreSQL cannot be reached")
    return {
        "/v1/images/{digest}/workloads": {
            "get": {
                "operationId": "listImageWorkloads",
                "summary": "The cluster workloads running an image",
                "parameters": [path_param("digest", "manifest digest, e.g. sha256:…")],
                "responses": {
                    "200": json_body(workloads, "the workloads (empty: none seen)"),
                    "404": json_body(problem, "the image is outside the caller's environments"),
                    "503": down,
                },
            }
        },
        _IMAGES_PATH: {
            "get": {
                "operationId": "listWorkloadImages",
                "summary": "The images a workload runs, with their scan status",
                "parameters": [
                    path_param("cluster", "cluster name"),
                    path_param("namespace", "namespace"),
                    path_param(
                        "kind", "workload kind: Deployment, StatefulSet, DaemonSet, CronJob, Job, Pod, ..."
                    ),
                    path_param("name", "workload name"),
                ],
                "responses": {
                    "200": json_body(images, "the images (empty: none seen)"),
                    "404": json_body(problem, "the cluster is outside the caller's environments"),
                    "503": down,
                },
            }
        },
    }, components
