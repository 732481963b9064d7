"""The dedupe service under test: N real ``assay service dedupe`` processes, and their CPU time.

Each replica is the project's own entrypoint (``services.cli.main service dedupe``: the real
``KafkaBus``, the real PostgreSQL ``Store``, ``run_service``), so the figures are those of the
deployed service. They share one consumer group, and Kafka spreads the inventory topic's
partitions over them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["DedupeReplicas", "process_cpu_seconds"]

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux ``/proc``); 0.0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / _TICKS


class DedupeReplicas:
    """Starts ``count`` dedupe processes in consumer group ``{group_prefix}-dedupe``; stops them on exit."""

    def __init__(self, *, count: int, bootstrap: str, pg_dsn: str, group_prefix: str, work_dir: Path) -> None:
        self.count = count
        self.group = f"{group_prefix}-dedupe"
        self._work = work_dir
        self._procs: list[subprocess.Popen[bytes]] = []
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
        env.update(
            ASSAY_KAFKA_BOOTSTRAP=bootstrap,
            ASSAY_PG_DSN=pg_dsn,
            ASSAY_KAFKA_CONSUMER_GROUP_PREFIX=group_prefix,
            ASSAY_DATA_DIR=str(work_dir / "data"),
        )
        # The checkout's packages, whether or not assay is installed.
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        self._env = env

    def __enter__(self) -> Self:
        self._work.mkdir(parents=True, exist_ok=True)
        try:
            for index in range(self.count):
                with (self._work / f"dedupe-{index}.log").open("ab") as log:
                    self._procs.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "services.cli.main", "service", "dedupe"],
                            env=self._env,
                            stdin=subprocess.DEVNULL,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                        )
                    )
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def cpu_seconds(self) -> float:
        """CPU seconds the replicas have used so far, summed."""
        return sum(process_cpu_seconds(p.pid) for p in self._procs)

    def failed(self) -> list[str]:
        """A line per replica that exited, with its status and the end of its log."""
        out = []
        for index, proc in enumerate(self._procs):
            if proc.poll() is not None:
                tail = (self._work / f"dedupe-{index}.log").read_text(errors="replace").splitlines()[-5:]
                out.append(f"dedupe replica {index} exited with {proc.returncode}: " + " | ".join(tail))
        return out

    def stop(self) -> None:
        """SIGTERM each replica (they finish the batch in flight), SIGKILL after 30 s."""
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs = []
