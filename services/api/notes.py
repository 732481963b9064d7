"""Fixed wording the API, the console and the CLI share (kept free of imports, so the CLI stays light)."""

from __future__ import annotations

from typing import Final

__all__ = ["FARGATE_NOTE"]

# an image seen only on ECS Fargate: shown instead of Request Rescan, and the reason a rescan is refused
FARGATE_NOTE: Final = "Not scannable where it runs (ECS Fargate): no node or registry copy to read."
