"""Run workloads as Kubernetes (or compose) would: each container its own OS process.

``Kubelet.run`` creates ``replicas`` pods per workload. A pod gets its own directory per volume
(``emptyDir``; compose's named volumes are shared between services), runs its init containers
one after another, each to a successful exit (a failed one is started again with back-off, as the
pod's restart policy ``Always`` does), then starts its containers. A container that exits is
restarted with back-off per the pod's ``restartPolicy`` (``services/cli/supervisor.py``, shared
with ``assay up``); every exit is recorded in ``events``. Compose services wait for the services
they depend on with ``service_completed_successfully``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.cli.supervisor import Backoff, Child, Supervisor
from tests.system.endpoints import ConfigError, Endpoints, container_env
from tests.system.workloads import Container, Restart, Workload

__all__ = ["Kubelet", "Pod", "running_fleet"]

# the kubelet's back-off (10 s doubling to 5 min) scaled down so that tests wait seconds, not minutes
TEST_BACKOFF = Backoff(initial_s=0.5, max_s=8.0, reset_after_s=30.0)


def _command(container: Container) -> list[str]:
    """The container's command line: the image's ``assay`` is this checkout's console script."""
    head, *rest = container.command
    if head == "assay":
        head = str(Path(sys.executable).parent / "assay")
    return [head, *rest, *container.args]


@dataclass(eq=False)
class Pod:
    """One replica of a workload and its containers' processes."""

    name: str
    workload: Workload
    volumes: dict[str, Path]
    home: Path
    stage: int = 0  # the init container running now; len(init) once the containers are started
    children: dict[str, Child] = field(default_factory=dict)  # container name -> process


class Kubelet:
    """Pods of the workloads it was given, their processes and what happened to them."""

    def __init__(self, endpoints: Endpoints, work: Path, *, namespace: str = "assay") -> None:
        self.endpoints = endpoints
        self.work = work
        self.namespace = namespace
        self.events: list[str] = []  # "assay-engine-0/engine exited (killed by SIGKILL); restart 1 in 0.5s"
        self.pods: list[Pod] = []
        self._sup = Supervisor(self.events.append, TEST_BACKOFF)
        (work / "logs").mkdir(parents=True, exist_ok=True)

    def run(self, workloads: Sequence[Workload]) -> None:
        """Create every workload's pods; containers start on the following ``tick``s."""
        for workload in workloads:
            for i in range(workload.replicas):
                name = f"{workload.name}-{i}"
                root = self.work / "pods" / name
                volumes = {
                    volume: (self.work / "volumes" / volume)
                    if volume in workload.shared_volumes
                    else (root / "volumes" / volume)
                    for c in (*workload.init, *workload.containers)
                    for volume, _ in c.mounts
                }
                for path in volumes.values():
                    path.mkdir(parents=True, exist_ok=True)
                for volume, secret in workload.secret_volumes:
                    self._project_secret(secret, volumes[volume])
                (root / "home").mkdir(parents=True, exist_ok=True)
                self.pods.append(Pod(name=name, workload=workload, volumes=volumes, home=root / "home"))
        self.tick()

    def _project_secret(self, secret: str, directory: Path) -> None:
        """A Secret volume: each key of ``secret`` a file (a missing Secret: the pod cannot start)."""
        keys = {key: value for (name, key), value in self.endpoints.secrets.items() if name == secret}
        if not keys:
            raise ConfigError(f"secret volume: secret {secret!r} is not in this test's cluster")
        for key, value in keys.items():
            (directory / key).write_text(value)
            (directory / key).chmod(0o600)

    def _start(self, pod: Pod, container: Container, restart: Restart) -> None:
        env = container_env(
            container, self.endpoints, pod=pod.name, namespace=self.namespace, volumes=pod.volumes
        )
        env.setdefault("HOME", str(pod.home))  # the image sets HOME (its data volume); else the pod's own
        child = Child(
            name=f"{pod.name}/{container.name}",
            argv=_command(container),
            env=env,
            restart=restart,
            log=self.work / "logs" / f"{pod.name}-{container.name}.log",
        )
        pod.children[container.name] = self._sup.start(child)

    def _ready(self, pod: Pod) -> bool:
        """Compose's ``service_completed_successfully``: every pod of those services exited 0."""
        after = [p for p in self.pods if p.workload.name in pod.workload.after]
        return all(c.succeeded for p in after for c in p.children.values()) and all(p.children for p in after)

    def tick(self) -> None:
        """Restart what exited, and move each pod on from a finished init container."""
        self._sup.tick()
        for pod in self.pods:
            init = pod.workload.init
            if pod.stage > len(init) or not self._ready(pod):
                continue
            if pod.stage < len(init):
                current = pod.children.get(init[pod.stage].name)
                if current is None:
                    self._start(pod, init[pod.stage], "on-failure")
                    continue
                if not current.succeeded:
                    continue
                pod.stage += 1
                if pod.stage < len(init):
                    continue
            for container in pod.workload.containers:
                self._start(pod, container, pod.workload.restart)
            pod.stage = len(init) + 1

    def shared(self, volume: str) -> Path:
        """The directory of a volume every pod shares (a claim; compose's named volume)."""
        return self.work / "volumes" / volume

    def pods_of(self, workload: str) -> list[Pod]:
        return [p for p in self.pods if p.workload.name == workload]

    def kill(self, workload: str, container: str = "", sig: int = signal.SIGKILL, *, logged: str = "") -> int:
        """Signal the first running container of ``workload`` (its main one unless named) whose log
        holds ``logged`` (any, if empty); its pid."""
        for pod in self.pods_of(workload):
            name = container or pod.workload.containers[0].name
            if logged not in self.log(pod.name, name):
                continue
            child = pod.children.get(name)
            if child is not None and child.proc is not None and child.running:
                child.proc.send_signal(sig)
                return child.proc.pid
        raise AssertionError(f"no running container of {workload}")

    def started(self) -> bool:
        """Every pod has started its containers (its init containers all succeeded)."""
        return all(p.stage > len(p.workload.init) for p in self.pods)

    def env(self, workload: str, container: str = "") -> dict[str, str]:
        """The environment the first pod of ``workload`` runs ``container`` (its main one) with."""
        pod = self.pods_of(workload)[0]
        child = pod.children[container or pod.workload.containers[0].name]
        return dict(child.env or {})

    def log(self, pod: str, container: str) -> str:
        path = self.work / "logs" / f"{pod}-{container}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self, workload: str) -> str:
        """Every log line of every container of ``workload``'s pods."""
        return "".join(
            self.log(p.name, c.name)
            for p in self.pods_of(workload)
            for c in (*p.workload.init, *p.workload.containers)
        )

    def stop(self) -> None:
        self._sup.stop(timeout=20)


@contextlib.asynccontextmanager
async def running_fleet(kubelet: Kubelet, workloads: Sequence[Workload]) -> AsyncIterator[Kubelet]:
    """Run ``workloads`` on ``kubelet``, ticking in the background, and stop every process after."""

    async def keep_ticking() -> None:
        while True:
            kubelet.tick()
            await asyncio.sleep(0.2)

    kubelet.run(workloads)
    task = asyncio.create_task(keep_ticking())
    try:
        yield kubelet
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.to_thread(kubelet.stop)
