"""ECS inventory: the images of the Running tasks of ECS clusters, on EC2 and on Fargate.

``list_clusters`` (when no clusters are configured), then per cluster ``list_tasks``
(paginated, ``desiredStatus=RUNNING``) and ``describe_tasks`` in chunks of 100 (the API's
limit). Only tasks whose ``lastStatus`` is ``RUNNING`` count. Each container gives one
sighting, environment ``ecs:<cluster name>``, workload from the task's ``group``
(``service:NAME`` -> ``ECSService`` NAME, ``family:NAME`` -> ``TaskFamily`` NAME).

The digest: the container's ``imageDigest`` (ECS fills it once the image is pulled), else a
digest written in the image reference (``repo@sha256:…``), else, when a ``resolve_digest``
is given, the digest the registry serves for the tag now (which may be newer than what the
task runs). moto never sets ``imageDigest``; a container with no digest by any of these
means is logged and skipped.

Fargate tasks (``launchType`` FARGATE, or a FARGATE/FARGATE_SPOT capacity provider) are
reported with ``scannable=False``: no node of ours can pull their images, the sighting is
linked and the digest is scanned wherever the same image is scannable. EC2 tasks are
``scannable=True``.

``EcsPoller`` (``aws/__init__``) hands each poll to ``deltas``, so images whose last task
stopped produce ``ImageRemoved``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from schemas.events import ImageDiscovered
from services.common.clock import utcnow
from services.common.config import AwsConfig
from services.common.errors import ReferenceError_, RegistryError
from services.inventory.aws.ecr import DigestResolver
from services.oci.reference import parse_reference

__all__ = ["cluster_name", "ecs_sightings", "is_fargate"]

log = logging.getLogger(__name__)

_DESCRIBE_CHUNK = 100
_FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
_AWS_ERRORS = (BotoCoreError, ClientError)


def cluster_name(cluster: str) -> str:
    """``arn:aws:ecs:…:cluster/NAME`` or ``NAME`` -> ``NAME``."""
    return cluster.rsplit("cluster/", 1)[-1] if cluster.startswith("arn:") else cluster


def is_fargate(task: dict[str, Any]) -> bool:
    """Whether a described task runs on Fargate."""
    return task.get("launchType") == "FARGATE" or task.get("capacityProviderName") in _FARGATE_PROVIDERS


def _workload(task: dict[str, Any]) -> tuple[str, str]:
    kind, _, name = str(task.get("group", "")).partition(":")
    return {"service": "ECSService", "family": "TaskFamily"}.get(kind, ""), name


async def _clusters(client: Any, config: AwsConfig) -> list[str]:
    if config.ecs_clusters:
        return list(config.ecs_clusters)
    return [
        arn
        async for page in client.get_paginator("list_clusters").paginate()
        for arn in page.get("clusterArns", [])
    ]


async def _running_tasks(client: Any, cluster: str) -> AsyncIterator[dict[str, Any]]:
    paginator = client.get_paginator("list_tasks")
    arns = [
        arn
        async for page in paginator.paginate(cluster=cluster, desiredStatus="RUNNING")
        for arn in page.get("taskArns", [])
    ]
    for start in range(0, len(arns), _DESCRIBE_CHUNK):
        response = await client.describe_tasks(cluster=cluster, tasks=arns[start : start + _DESCRIBE_CHUNK])
        for task in response.get("tasks", []):
            if task.get("lastStatus") == "RUNNING":
                yield task


async def ecs_sightings(
    client: Any,
    config: AwsConfig,
    *,
    resolve_digest: DigestResolver | None = None,
    polled: set[str] | None = None,
) -> AsyncIterator[ImageDiscovered]:
    """One ``ImageDiscovered`` per distinct (cluster, image, tag, workload) of the Running tasks.

    A cluster that cannot be listed is logged and skipped; the environments listed in full are
    added to ``polled`` (so a failed listing never reads as "every image went away").
    """
    try:
        clusters = await _clusters(client, config)
    except _AWS_ERRORS as exc:
        log.warning("inventory: ECS: cannot list clusters: %s", exc)
        return
    for cluster in clusters:
        name = cluster_name(cluster)
        seen: set[tuple[str, str, str, str, str]] = set()
        try:
            tasks = [t async for t in _running_tasks(client, cluster)]
        except _AWS_ERRORS as exc:
            log.warning("inventory: ECS cluster %s: cannot list tasks: %s", name, exc)
            continue
        if polled is not None:
            polled.add(f"ecs:{name}")
        for task in tasks:
            kind, workload = _workload(task)
            fargate = is_fargate(task)
            for container in task.get("containers", []):
                event = await _sighting(name, container, fargate, kind, workload, resolve_digest)
                if event is None:
                    continue
                key = (event.registry, event.repository, event.digest, event.tag, workload)
                if key not in seen:
                    seen.add(key)
                    yield event


async def _sighting(
    cluster: str,
    container: dict[str, Any],
    fargate: bool,
    kind: str,
    workload: str,
    resolve_digest: DigestResolver | None,
) -> ImageDiscovered | None:
    image = str(container.get("image", ""))
    where = f"ECS {cluster}: container {container.get('name', '?')} ({image})"
    try:
        ref = parse_reference(image)
    except ReferenceError_ as exc:
        log.warning("inventory: %s: unparsable image: %s", where, exc)
        return None
    digest = str(container.get("imageDigest") or ref.digest)
    if not digest and resolve_digest is not None and ref.tag:
        try:
            digest = await resolve_digest(ref.registry, ref.repository, ref.tag)
        except RegistryError as exc:
            log.warning("inventory: %s: no imageDigest and the tag cannot be resolved: %s", where, exc)
            return None
    if not digest.startswith("sha256:"):
        log.warning("inventory: %s: no imageDigest; skipped", where)
        return None
    return ImageDiscovered(
        environment=f"ecs:{cluster}",
        registry=ref.registry,
        repository=ref.repository,
        tag=ref.tag,
        digest=digest,
        discovered_at=utcnow(),
        workload_kind=kind,
        workload=workload,
        scannable=not fargate,
    )
