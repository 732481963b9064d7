"""Actions a composite GitHub action calls: ``.github/actions/*/action.yml``.

A composite action (``runs.using: composite``) lists steps like a job does; each distinct
``runs.steps[].uses`` is one declared package (see ``usage``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from services.engine.catalogers.githubactions.usage import github_to_package, parse_uses, steps_uses
from services.engine.catalogers.interface import Cataloger, ParseResult
from services.engine.requests import FileRequest


def _action_uses(document: dict[str, Any]) -> Iterator[str]:
    runs = document.get("runs")
    if isinstance(runs, dict):
        yield from steps_uses(runs.get("steps"))


def parse_composite_action(path: str, data: bytes) -> ParseResult:
    """Every action a composite action's steps use; bad YAML is a problem."""
    return parse_uses(path, data, "action", _action_uses)


CATALOGER = Cataloger(
    name="github-actions-composite",
    package_type="github",
    request=FileRequest(
        name="github-actions-composite",
        patterns=("**/.github/actions/*/action.yml", "**/.github/actions/*/action.yaml"),
        max_bytes=1 << 20,
    ),
    parse=parse_composite_action,
    to_package=github_to_package,
    tags=("image", "directory", "declared"),
)
