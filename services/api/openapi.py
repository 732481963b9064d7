"""The read API's OpenAPI 3.1 document.

Response schemas are generated from the msgspec Structs the handlers encode
(``msgspec.json.schema_components``), so the document cannot drift from the responses;
OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what msgspec emits.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from services.api.advisories import advisory_openapi
from services.api.auth.routes import auth_openapi
from services.api.environments import environment_openapi
from services.api.links import link_openapi
from services.api.models import FindingPage, FindingView, Health, ImagePage, ImageView, Problem
from services.api.openapi_parts import json_body, path_param
from services.api.params import FINDING_PARAMS, IMAGE_PARAMS
from services.api.rescan import rescan_openapi
from services.api.workloads import workload_openapi

__all__ = ["API_VERSION", "openapi_document"]

API_VERSION: Final = "1.0.0"
_REF: Final = "#/components/schemas/{name}"
_REPEATABLE: Final = frozenset({"environment", "ou", "status", "repository", "ruleset", "category", "digest"})
_REPEATABLE_FINDINGS: Final = _REPEATABLE | {"package", "state"}


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


_PUBLIC_PATHS: Final = frozenset({"/healthz"})


def _security_schemes(oidc_issuer: str) -> dict[str, Any]:
    schemes: dict[str, Any] = {
        "apiToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "an API token from `assay tokens create --role viewer|operator|admin NAME`; "
            "one made with `--environments`/`--ous` sees and changes only those environments' images",
        },
        "oidcIdToken": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "an ID token of the configured OpenID Connect issuer (ASSAY_AUTH_OIDC_ISSUER), "
            "its audience the client id, its role in the `assay_role` claim (ASSAY_AUTH_OIDC_ROLE_CLAIM) "
            "and the environments and OUs it is limited to in the `assay_scope` claim "
            "(ASSAY_AUTH_OIDC_SCOPE_CLAIM; absent: every environment)",
        },
    }
    if oidc_issuer:
        url = f"{oidc_issuer.rstrip('/')}/.well-known/openid-configuration"
        schemes["oidc"] = {"type": "openIdConnect", "openIdConnectUrl": url}
    return schemes


def _secured(paths: dict[str, Any], problem: dict[str, Any]) -> dict[str, Any]:
    """Every operation but the public ones answers 401, 403 and 429 as well."""
    common = {
        "401": json_body(problem, "no credentials, or credentials that do not verify"),
        "403": json_body(
            problem,
            "the caller's role does not allow this, or it names an image or environment outside the "
            "environments the caller is limited to (or a console form's CSRF token is wrong)",
        ),
        "429": json_body(problem, "too many requests (or failed logins); see Retry-After"),
    }
    for path, operations in paths.items():
        for operation in operations.values():
            if path in _PUBLIC_PATHS:
                operation["security"] = []
            else:
                operation["responses"] = {**operation["responses"], **common}
    return paths


# long: one literal route table, read top to bottom
def openapi_document(oidc_issuer: str = "") -> dict[str, Any]:
    """The OpenAPI 3.1 document describing every route of the read API."""
    refs, components = msgspec.json.schema_components(
        [ImagePage, ImageView, FindingPage, FindingView, Problem, Health], ref_template=_REF
    )
    image_page, image, finding_page, finding, problem, health = refs
    link_paths, link_components = link_openapi(_REF)  # registry <-> cluster links (links.py)
    advisory_paths, advisory_components = advisory_openapi(_REF)  # advisory data (advisories.py)
    workload_paths, workload_components = workload_openapi(_REF)  # workload context (workloads.py)
    rescan_paths, rescan_components = rescan_openapi(_REF)  # request rescans (rescan.py)
    auth_paths, auth_components = auth_openapi(_REF)  # audit log, whoami (auth/routes.py)
    env_paths, env_components = environment_openapi(_REF)  # list, add, remove (environments.py)
    bad = json_body(problem, "a parameter is unknown or invalid; the message names it")
    missing = json_body(problem, "no such resource")
    down = json_body(problem, "PostgreSQL cannot be reached")
    paths: dict[str, Any] = {
        "/v1/images": {
            "get": {
                "operationId": "listImages",
                "summary": "List images with status, environments and finding counts, by digest",
                "parameters": _query(IMAGE_PARAMS, _REPEATABLE),
                "responses": {"200": json_body(image_page, "a page of images"), "400": bad, "503": down},
            }
        },
        "/v1/images/{digest}": {
            "get": {
                "operationId": "getImage",
                "summary": "One image by manifest digest",
                "parameters": [path_param("digest", "manifest digest, e.g. sha256:…")],
                "responses": {"200": json_body(image, "the image"), "404": missing, "503": down},
            }
        },
        "/v1/findings": {
            "get": {
                "operationId": "listFindings",
                "summary": "List findings, most severe first, filtered",
                "parameters": _query(FINDING_PARAMS, _REPEATABLE_FINDINGS),
                "responses": {
                    "200": json_body(finding_page, "a page of findings"),
                    "400": bad,
                    "503": down,
                },
            }
        },
        "/v1/findings/{finding_id}": {
            "get": {
                "operationId": "getFinding",
                "summary": "One finding by its stable id",
                "parameters": [path_param("finding_id", "the finding's stable id (URL-encoded)")],
                "responses": {"200": json_body(finding, "the finding"), "404": missing, "503": down},
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
                    "200": json_body(health, "serving, database reachable"),
                    "503": json_body(health, "database unreachable"),
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
        **rescan_paths,
        **auth_paths,
        **env_paths,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Assay read API",
            "version": API_VERSION,
            "description": "Images with their scan status and environments, and the findings about them, "
            "read from Assay's PostgreSQL store. Lists are keyset-paginated: follow `next` until it is null. "
            "Every route but /healthz needs a bearer credential: an API token or an OIDC ID token. "
            "A credential limited to some environments or OUs reads only their images, findings and "
            "workloads (others are not found) and is refused changes outside them (403).",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "security": [{"apiToken": []}, {"oidcIdToken": []}],
        "paths": _secured(paths, problem),
        "components": {
            "securitySchemes": _security_schemes(oidc_issuer),
            "schemas": {
                **link_components,
                **advisory_components,
                **workload_components,
                **rescan_components,
                **auth_components,
                **env_components,
                **components,
            },
        },
    }
