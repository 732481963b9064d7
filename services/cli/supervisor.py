"""Child processes kept running the way Kubernetes keeps a pod's containers running.

``assay up`` (and the system tests' deployment harness) start each service as its own process.
A child that exits is started again after a back-off that doubles per restart up to a cap and
resets once the child has stayed up for a while, as the kubelet does (``restartPolicy: Always``);
a child with ``restart="on-failure"`` (a Job, or ``inventory --once``) is left alone once it exits
0. Every exit is reported with its reason through ``report``.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

__all__ = ["Backoff", "Child", "Supervisor", "exit_reason"]

Restart = Literal["always", "on-failure", "never"]


@dataclass(frozen=True)
class Backoff:
    """Restart delays: ``initial_s`` doubled per consecutive restart up to ``max_s``; a child up for
    ``reset_after_s`` starts over at ``initial_s``."""

    initial_s: float = 1.0
    max_s: float = 30.0
    reset_after_s: float = 60.0

    def delay(self, restarts: int) -> float:
        return float(min(self.max_s, self.initial_s * 2 ** max(0, restarts - 1)))


@dataclass(eq=False)
class Child:
    """One supervised process: how to start it and what happened to it so far."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    restart: Restart = "always"
    log: Path | None = None  # stdout and stderr appended here; None: inherited
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0  # consecutive restarts (reset after a long enough run)
    total_restarts: int = 0
    started_at: float = 0.0
    due: float | None = None  # monotonic time of the next start, while waiting to restart
    exits: list[int] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def succeeded(self) -> bool:
        """Exited 0 and will not be started again."""
        return (
            self.due is None and self.proc is not None and self.proc.poll() == 0 and self.restart != "always"
        )


def exit_reason(code: int) -> str:
    """``exit code 2`` or ``killed by SIGKILL``."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Supervisor:
    """Starts children, restarts them per their policy on each ``tick``, and stops them all."""

    def __init__(self, report: Callable[[str], None], backoff: Backoff | None = None) -> None:
        self.children: dict[str, Child] = {}
        self._report = report
        self._backoff = backoff or Backoff()
        self._stopping = False

    def start(self, child: Child) -> Child:
        self.children[child.name] = child
        self._spawn(child)
        return child

    def _spawn(self, child: Child) -> None:
        out: IO[bytes] | None = child.log.open("ab") if child.log else None
        try:
            child.proc = subprocess.Popen(
                list(child.argv),
                env=dict(child.env) if child.env is not None else None,
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
            )
        finally:
            if out:
                out.close()
        child.started_at = time.monotonic()
        child.due = None

    def tick(self) -> None:
        """Notice exits and start the children whose back-off has passed; call it often."""
        now = time.monotonic()
        for child in self.children.values():
            if self._stopping or child.proc is None:
                continue
            if child.due is not None:
                if now >= child.due:
                    self._spawn(child)
                continue
            code = child.proc.poll()
            if code is None:
                continue
            child.exits.append(code)
            if child.restart == "never" or (child.restart == "on-failure" and code == 0):
                if code != 0:
                    self._report(f"{child.name} exited ({exit_reason(code)}); not restarted")
                continue
            if now - child.started_at >= self._backoff.reset_after_s:
                child.restarts = 0
            child.restarts += 1
            child.total_restarts += 1
            delay = self._backoff.delay(child.restarts)
            child.due = now + delay
            self._report(
                f"{child.name} exited ({exit_reason(code)}); restart {child.total_restarts} in {delay:.1f}s"
            )

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM every child (they drain their batch), SIGKILL those still up after ``timeout``."""
        self._stopping = True
        live = [c.proc for c in self.children.values() if c.proc is not None and c.proc.poll() is None]
        for proc in live:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in live:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
