"""The small OpenAPI building blocks every route module's document uses (one copy, not one per module)."""

from __future__ import annotations

from typing import Any

__all__ = ["json_body", "path_param"]


def json_body(ref: dict[str, Any], description: str) -> dict[str, Any]:
    """A response (or request) with a JSON body of schema ``ref``."""
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def path_param(name: str, description: str) -> dict[str, Any]:
    """A required string path parameter."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }
