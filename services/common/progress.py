"""Progress for people at a terminal: advisory downloads and builds, layer pulls and walks.

Built on ``rich`` (what pip itself draws its progress with): live bars redrawn in place, lasting
lines printed above them, everything gone from the screen when the work ends. Where nobody is
watching (standard error is not a terminal) or ``NO_COLOR`` is set, ``Progress`` is quiet: only
lasting lines are written, as plain text, so logs and CI keep what happened and none of the
redraws. The entrypoint decides (``wants_progress``); the code that does the work only reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # rich is imported only when bars are drawn: a scan nobody watches never loads it
    from rich.progress import Progress as _Bars
    from rich.progress import TaskID

__all__ = ["Progress", "Task", "wants_progress"]


def wants_progress(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Live progress on ``stream``: only on a terminal, and not when ``NO_COLOR`` is set (any value)."""
    return stream.isatty() and "NO_COLOR" not in environ


class Task:
    """One bar (a layer, a download): ``advance`` by bytes done, ``done`` when finished."""

    def __init__(self, bars: _Bars | None, task: TaskID | None) -> None:
        self._bars, self._task = bars, task

    def advance(self, n: int) -> None:
        if self._bars is not None and self._task is not None:
            self._bars.advance(self._task, n)

    def done(self) -> None:
        """Remove the bar (finished work leaves only its lasting line, if any)."""
        if self._bars is not None and self._task is not None:
            self._bars.remove_task(self._task)
            self._task = None


class Progress:
    """Bars, one transient status line and lasting lines on ``stream``; ``live=False``: lines only."""

    def __init__(self, stream: TextIO, *, live: bool) -> None:
        self._stream = stream
        self._bars: _Bars | None = None
        self._status: TaskID | None = None
        if live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                SpinnerColumn,
                TextColumn,
                TransferSpeedColumn,
            )
            from rich.progress import Progress as _Bars

            console = Console(file=stream, force_terminal=True, highlight=False)
            self._bars = _Bars(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                console=console,
                transient=True,
            )

    @property
    def live(self) -> bool:
        return self._bars is not None

    def __enter__(self) -> Progress:
        if self._bars is not None:
            self._bars.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bars is not None:
            self._bars.stop()

    def line(self, message: str) -> None:
        """A lasting line (above the bars on a terminal)."""
        if self._bars is not None:
            self._bars.console.print(message, markup=False)
        else:
            self._stream.write(message + "\n")
            self._stream.flush()

    def status(self, message: str) -> None:
        """A transient update (bytes downloaded, records read): shown live, never written elsewhere."""
        if self._bars is None:
            return
        if self._status is None:
            self._status = self._bars.add_task(message, total=None)
        else:
            self._bars.update(self._status, description=message)

    def task(self, description: str, total: int | None) -> Task:
        """A bar for ``total`` bytes (None: unknown); a no-op when not live."""
        if self._bars is None:
            return Task(None, None)
        return Task(self._bars, self._bars.add_task(description, total=total or None))
