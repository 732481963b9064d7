"""Harbor's published adapter specification (testdata/), and validation of documents against it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator

SPEC = Path(__file__).parent / "testdata" / "scanner-adapter-openapi-v1.1.yaml"


@cache
def spec() -> dict[str, Any]:
    """The OpenAPI document, with its integer response codes as the strings OpenAPI tools expect."""
    loaded: dict[str, Any] = json.loads(json.dumps(yaml.safe_load(SPEC.read_text("utf-8")), default=str))
    return loaded


def schema_errors(component: str, document: object) -> list[str]:
    """Why ``document`` is not a ``component`` (OpenAPI 3.0 schemas are JSON Schema draft 4 based)."""
    root = {**spec(), "$ref": f"#/components/schemas/{component}"}
    return [f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(root).iter_errors(document)]


def response_mime(path: str, method: str, status: int) -> list[str]:
    """The media types the specification gives for a response."""
    content = spec()["paths"][path][method]["responses"][str(status)].get("content", {})
    return list(content)
