"""A parser's list of problems, capped: a hostile file cannot turn into millions of unknowns.

Parsers report one problem per malformed line or record. A file of garbage lines would make
one problem per line (8.4 million for a 7 GiB apk database), costing memory in the parser
and then in every report. ``Problems`` keeps the first ``limit`` and counts the rest; its
``items()`` ends with one summary line saying how many more there were.
"""

from __future__ import annotations

PROBLEMS_PER_FILE = 100


class Problems:
    """Problems of one file: the first ``limit`` kept, the rest only counted."""

    def __init__(self, path: str, limit: int = PROBLEMS_PER_FILE) -> None:
        self._path = path
        self._limit = limit
        self._kept: list[str] = []
        self.dropped = 0

    def add(self, problem: str) -> None:
        if len(self._kept) < self._limit:
            self._kept.append(problem)
        else:
            self.dropped += 1

    append = add  # the list-like spelling, for readers that collect problems as they go

    def __len__(self) -> int:
        return len(self._kept) + self.dropped

    def items(self) -> list[str]:
        """The kept problems plus, if any were dropped, one line counting them."""
        if not self.dropped:
            return list(self._kept)
        return [*self._kept, f"{self._path}: {self.dropped} more problems not listed"]
