"""Actions and reusable workflows a GitHub Actions workflow calls: ``.github/workflows/*.yml``.

``jobs.<id>.uses`` calls a reusable workflow; ``jobs.<id>.steps[].uses`` an action. Each
distinct reference is one declared package (see ``usage``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from services.engine.catalogers.githubactions.usage import github_to_package, parse_uses, steps_uses
from services.engine.catalogers.interface import Cataloger, ParseResult
from services.engine.requests import FileRequest


def _workflow_uses(document: dict[str, Any]) -> Iterator[str]:
    jobs = document.get("jobs")
    if not isinstance(jobs, dict):
        return
    for job in jobs.values():
        if not isinstance(job, dict):
            continue
        if isinstance(job.get("uses"), str):
            yield job["uses"]
        yield from steps_uses(job.get("steps"))


def parse_workflow(path: str, data: bytes) -> ParseResult:
    """Every action and reusable workflow the workflow's jobs use; bad YAML is a problem."""
    return parse_uses(path, data, "workflow", _workflow_uses)


CATALOGER = Cataloger(
    name="github-actions-workflow",
    package_type="github",
    request=FileRequest(
        name="github-actions-workflow",
        patterns=("**/.github/workflows/*.yml", "**/.github/workflows/*.yaml"),
        max_bytes=1 << 20,
    ),
    parse=parse_workflow,
    to_package=github_to_package,
    tags=("image", "directory", "declared"),
)
