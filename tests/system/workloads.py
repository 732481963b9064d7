"""What the deployment runs, read from the rendered manifests (``k8s/``) and ``deploy/compose.yaml``.

A ``Workload`` is one Deployment, DaemonSet, StatefulSet or Job (or one compose service of the
Assay image): how many pods, which restart policy, its init containers and containers with their
args, environment (literal values and references, untouched) and volume mounts. Nothing here is
made up: a field the manifests do not carry is not in a ``Workload``; the harness (``kubelet.py``)
runs these exactly, substituting only the endpoints (``endpoints.py``).
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = [
    "ENTRYPOINT",
    "Container",
    "Workload",
    "compose_workloads",
    "k8s_secrets",
    "k8s_workloads",
    "rendered_workloads",
]

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
COMPOSE = ROOT / "deploy" / "compose.yaml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"

Restart = Literal["always", "on-failure", "never"]
_KINDS = ("Deployment", "DaemonSet", "StatefulSet", "Job")


def _entrypoint() -> tuple[str, ...]:
    """The image's ``ENTRYPOINT`` (exec form) from deploy/Dockerfile: what every container runs."""
    found = re.findall(r"^ENTRYPOINT\s+(\[.*\])\s*$", DOCKERFILE.read_text(), re.MULTILINE)
    if len(found) != 1:
        raise ValueError(f"{DOCKERFILE}: expected one exec-form ENTRYPOINT, found {found}")
    return tuple(json.loads(found[0]))


ENTRYPOINT = _entrypoint()


def _image_volumes() -> tuple[str, ...]:
    """The image's ``VOLUME`` paths: Docker gives each container an anonymous volume there."""
    found = re.findall(r"^VOLUME\s+(\[.*\])\s*$", DOCKERFILE.read_text(), re.MULTILINE)
    return tuple(path for paths in found for path in json.loads(paths))


IMAGE_VOLUMES = _image_volumes()


def _image_env() -> dict[str, str]:
    """The image's ``ENV`` (the final stage's), but ``PATH``: every container starts with it."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    final = text[text.rindex("\nFROM ") :]
    env: dict[str, str] = {}
    for line in re.findall(r"^ENV\s+(.*)$", final, re.MULTILINE):
        for token in shlex.split(line):
            name, _, value = token.partition("=")
            env[name] = value
    env.pop("PATH", None)  # the harness runs this checkout's venv, not /opt/assay
    return env


IMAGE_ENV = _image_env()


@dataclass(frozen=True)
class Container:
    """One container as the manifest writes it."""

    name: str
    command: tuple[str, ...]  # the image's entrypoint unless the manifest overrides it
    args: tuple[str, ...]
    env: tuple[dict[str, Any], ...]  # Kubernetes EnvVar objects: {"name", "value"} or {"name", "valueFrom"}
    mounts: tuple[tuple[str, str], ...]  # (volume name, mount path)


@dataclass(frozen=True)
class Workload:
    """One workload: ``replicas`` pods, each running ``init`` in order, then ``containers``."""

    name: str
    kind: str
    component: str
    replicas: int
    restart: Restart
    init: tuple[Container, ...]
    containers: tuple[Container, ...]
    service_account_token: bool  # automountServiceAccountToken: the pod talks to the Kubernetes API
    after: tuple[str, ...] = ()  # compose: services that must have completed successfully first
    shared_volumes: tuple[str, ...] = ()  # compose's named volumes, k8s claims: shared with other pods
    secret_volumes: tuple[tuple[str, str], ...] = ()  # (volume, Secret): the Secret's keys as files


def _load_k8s(directory: Path) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _container(spec: dict[str, Any]) -> Container:
    return Container(
        name=spec["name"],
        command=tuple(spec.get("command") or ENTRYPOINT),
        args=tuple(spec.get("args", ())),
        env=tuple(spec.get("env", ())),
        mounts=tuple((m["name"], m["mountPath"]) for m in spec.get("volumeMounts", ())),
    )


def _component(obj: dict[str, Any]) -> str:
    labels = obj["metadata"].get("labels", {})
    return str(labels.get("app.kubernetes.io/component", obj["metadata"]["name"]))


def _replicas(obj: dict[str, Any], scalers: dict[str, int]) -> int:
    if obj["kind"] == "DaemonSet":
        return 1  # the harness plays one node
    if obj["kind"] == "Job":
        return int(obj["spec"].get("completions", 1))
    if "replicas" in obj["spec"]:
        return int(obj["spec"]["replicas"])
    # no replicas field: an autoscaler owns it (KEDA's minReplicaCount), else Kubernetes' default 1
    return scalers.get(obj["metadata"]["name"], 1)


def k8s_workloads(directory: Path = K8S) -> list[Workload]:
    """Every workload of the rendered manifests in ``directory``."""
    docs = _load_k8s(directory)
    scalers = {
        d["spec"]["scaleTargetRef"]["name"]: int(d["spec"].get("minReplicaCount", 1))
        for d in docs
        if d["kind"] == "ScaledObject"
    }
    out: list[Workload] = []
    for obj in docs:
        if obj["kind"] not in _KINDS:
            continue
        pod = obj["spec"]["template"]["spec"]
        policy = pod.get("restartPolicy", "Never" if obj["kind"] == "Job" else "Always")
        restart: Restart = {"Always": "always", "OnFailure": "on-failure", "Never": "never"}[policy]
        out.append(
            Workload(
                name=obj["metadata"]["name"],
                kind=obj["kind"],
                component=obj["metadata"]["labels"].get(
                    "app.kubernetes.io/component", obj["metadata"]["name"]
                ),
                replicas=_replicas(obj, scalers),
                restart=restart,
                init=tuple(_container(c) for c in pod.get("initContainers", ())),
                containers=tuple(_container(c) for c in pod["containers"]),
                service_account_token=bool(pod.get("automountServiceAccountToken", True)),
                # a PersistentVolumeClaim is one volume for every pod that mounts it
                shared_volumes=tuple(
                    v["name"] for v in pod.get("volumes", ()) if "persistentVolumeClaim" in v
                ),
                secret_volumes=tuple(
                    (v["name"], v["secret"]["secretName"]) for v in pod.get("volumes", ()) if "secret" in v
                ),
            )
        )
    return out


def k8s_secrets(directory: Path = K8S) -> dict[tuple[str, str], str]:
    """(Secret, key) -> value of every Secret the manifests themselves carry (a generated
    certificate), as the API server would store them for the pods to mount."""
    out: dict[tuple[str, str], str] = {}
    for obj in _load_k8s(directory):
        if obj["kind"] == "Secret":
            name = obj["metadata"]["name"]
            out.update({(name, k): base64.b64decode(v).decode() for k, v in obj.get("data", {}).items()})
            out.update({(name, k): str(v) for k, v in obj.get("stringData", {}).items()})
    return out


def rendered_workloads(values: dict[str, Any], directory: Path) -> list[Workload]:
    """The workloads of the chart rendered with ``values`` over its defaults (an operator's install),
    written to ``directory`` as ``k8s/`` is by ``python -m deploy.render``."""
    from deploy.render import render

    directory.mkdir(parents=True, exist_ok=True)
    for path, text in render(values).items():
        if path.endswith(".yaml") and text.strip():
            (directory / Path(path).name).write_text(text)
    return k8s_workloads(directory)


_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def _interpolate(value: str, environ: Mapping[str, str]) -> str:
    """Compose's ``${VAR}`` / ``${VAR:-default}`` from the shell that runs ``docker compose up``."""
    return _INTERPOLATION.sub(lambda m: environ.get(m["name"]) or (m["default"] or ""), value)


def _compose_env(environment: Any, environ: Mapping[str, str]) -> tuple[dict[str, Any], ...]:
    if isinstance(environment, list):  # ["NAME=value", ...]
        pairs = [item.split("=", 1) for item in environment]
        return tuple({"name": k, "value": _interpolate(v, environ)} for k, v in pairs)
    return tuple(
        {"name": k, "value": _interpolate("" if v is None else str(v), environ)}
        for k, v in (environment or {}).items()
    )


def _compose_restart(value: str) -> Restart:
    if value in ("always", "unless-stopped"):
        return "always"
    return "on-failure" if value.startswith("on-failure") else "never"


def compose_workloads(path: Path = COMPOSE, environ: Mapping[str, str] | None = None) -> list[Workload]:
    """Every service of the compose file that runs the Assay image (anchors and merges resolved),
    its ``${VAR}`` references filled from ``environ`` (the operator's shell; default: none set)."""
    data = yaml.safe_load(path.read_text())
    out: list[Workload] = []
    for name, svc in data["services"].items():
        if not str(svc.get("image", "")).startswith("assay:"):
            continue
        depends = svc.get("depends_on") or {}
        after = tuple(
            n
            for n, cond in (depends.items() if isinstance(depends, dict) else ())
            if cond.get("condition") == "service_completed_successfully"
        )
        volumes = [str(v).split(":", 1) for v in svc.get("volumes", ())]
        mounted = {v[1] for v in volumes}
        anonymous = [(f"anonymous-{i}", p) for i, p in enumerate(IMAGE_VOLUMES) if p not in mounted]
        container = Container(
            name=name,
            command=tuple(svc.get("entrypoint") or ENTRYPOINT),
            args=tuple(svc.get("command", ())),
            env=_compose_env(svc.get("environment"), environ or {}),
            mounts=(
                *((v[0], v[1]) for v in volumes),
                *anonymous,
                *(("tmpfs", p) for p in svc.get("tmpfs", ())),
            ),
        )
        out.append(
            Workload(
                name=name,
                kind="compose",
                component=name,
                replicas=1,
                restart=_compose_restart(str(svc.get("restart", "no"))),
                init=(),
                containers=(container,),
                service_account_token=False,
                after=after,
                shared_volumes=tuple(v[0] for v in volumes if not v[0].startswith(("/", "."))),
            )
        )
    return out
