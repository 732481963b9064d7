"""What one image has spent of its scan budget's per-image totals, shared by the parsers of its files.

``ScanBudget`` holds limits and is frozen; some of them are totals over the whole image
(``archive_expanded_bytes_max``: bytes inflated from nested archives in every jar of the
image). The analysis makes one ``Meter`` per image and hands it, with the budget, to every
parser that accepts a keyword ``meter``; a parser called on its own gets a fresh one, so
its totals then count for that one file.
"""

from __future__ import annotations

from services.engine.budget import ScanBudget


class Meter:
    """Amounts spent against the named per-image limits of one ``ScanBudget``."""

    def __init__(self, budget: ScanBudget) -> None:
        self.budget = budget
        self._spent: dict[str, int] = {}

    def left(self, name: str) -> int:
        """What remains of the limit ``name`` (a ``ScanBudget`` field); zero or less when spent."""
        limit: int = getattr(self.budget, name)
        return limit - self._spent.get(name, 0)

    def spend(self, name: str, amount: int) -> None:
        self._spent[name] = self._spent.get(name, 0) + amount
