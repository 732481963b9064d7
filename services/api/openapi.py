"""The read API's OpenAPI 3.1 document.

Response schemas are generated from the msgspec Structs the handlers encode
(``msgspec.json.schema_components``), so the document cannot drift from the responses;
OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what msgspec emits.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from services.api.advisories import advisory_openapi
from services.api.links import link_openapi
from services.api.models import FindingPage, FindingView, Health, ImagePage, ImageView, Problem
from services.api.params import FINDING_PARAMS, IMAGE_PARAMS
from services.api.workloads import workload_openapi

__all__ = ["API_VERSION", "openapi_document"]

API_VERSION: Final = "1.0.0"
_REF: Final = "#/components/schemas/{name}"
_REPEATABLE: Final = frozenset({"environment", "ou", "status", "repository", "ruleset", "category", "digest"})
_REPEATABLE_FINDINGS: Final = _REPEATABLE | {"package", "state"}


def _json(ref: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def _query(params: dict[str, str], repeatable: frozenset[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, description in params.items():
        schema: dict[str, Any]
        if name == "limit":
            schema = {"type": "integer", "minimum": 1, "maximum": 1000}
        elif name in repeatable:
            schema = {"type": "array", "items": {"type": "string"}}
        else:
            schema = {"type": "string"}
        param: dict[str, Any] = {"name": name, "in": "query", "required": False, "description": description}
        if name in repeatable:
            param.update(style="form", explode=True)
        out.append({**param, "schema": schema})
    return out


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document describing every route of the read API."""
    refs, components = msgspec.json.schema_components(
        [ImagePage, ImageView, FindingPage, FindingView, Problem, Health], ref_template=_REF
    )
    image_page, image, finding_page, finding, problem, health = refs
    link_paths, link_components = link_openapi(_REF)  # registry <-> cluster links (links.py)
    advisory_paths, advisory_components = advisory_openapi(_REF)  # advisory data (advisories.py)
    workload_paths, workload_components = workload_openapi(_REF)  # workload context (workloads.py)
    bad = _json(problem, "a parameter is unknown or invalid; the message names it")
    missing = _json(problem, "no such resource")
    down = _json(problem, "PostgreSQL cannot be reached")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Assay read API",
            "version": API_VERSION,
            "description": "Images with their scan status and environments, and the findings about them, "
            "read from Assay's PostgreSQL store. Lists are keyset-paginated: follow `next` until it is null.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": {
            "/v1/images": {
                "get": {
                    "operationId": "listImages",
                    "summary": "List images with status, environments and finding counts, by digest",
                    "parameters": _query(IMAGE_PARAMS, _REPEATABLE),
                    "responses": {"200": _json(image_page, "a page of images"), "400": bad, "503": down},
                }
            },
            "/v1/images/{digest}": {
                "get": {
                    "operationId": "getImage",
                    "summary": "One image by manifest digest",
                    "parameters": [_path_param("digest", "manifest digest, e.g. sha256:…")],
                    "responses": {"200": _json(image, "the image"), "404": missing, "503": down},
                }
            },
            "/v1/findings": {
                "get": {
                    "operationId": "listFindings",
                    "summary": "List findings, most severe first, filtered",
                    "parameters": _query(FINDING_PARAMS, _REPEATABLE_FINDINGS),
                    "responses": {"200": _json(finding_page, "a page of findings"), "400": bad, "503": down},
                }
            },
            "/v1/findings/{finding_id}": {
                "get": {
                    "operationId": "getFinding",
                    "summary": "One finding by its stable id",
                    "parameters": [_path_param("finding_id", "the finding's stable id (URL-encoded)")],
                    "responses": {"200": _json(finding, "the finding"), "404": missing, "503": down},
                }
            },
            **link_paths,
            **advisory_paths,
            **workload_paths,
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness and database reachability",
                    "responses": {
                        "200": _json(health, "serving, database reachable"),
                        "503": _json(health, "database unreachable"),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "the OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {**link_components, **advisory_components, **workload_components, **components}
        },
    }
