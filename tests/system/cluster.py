"""The watched cluster's side of a system test: pods as the API server serves them, and probes.

``pod`` builds a pod from a real one (``tests/inventory/testdata/pods``) running, or not yet
running, an image of the test registry. ``record_statuses`` installs a PostgreSQL trigger that
keeps every status an image passes through, so a test can tell that an image showed Scanning.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import asyncpg

__all__ = ["pod", "record_statuses", "statuses_seen"]

_TEMPLATE = Path(__file__).resolve().parents[1] / "inventory" / "testdata" / "pods"
_RUNNING = json.loads((_TEMPLATE / "statefulset-dockershim-running.json").read_text())


def pod(
    namespace: str,
    name: str,
    *,
    image: str,
    digest: str,
    deployment: str = "",
    running: bool = True,
    node: str = "node-1",
) -> dict[str, Any]:
    """A pod running ``image`` (``host/repo:tag``) at ``digest``, owned by ``deployment``'s ReplicaSet.

    Not running: the pod is Pending, its container waiting (``ContainerCreating``) with no imageID.
    """
    data: dict[str, Any] = copy.deepcopy(_RUNNING)
    meta = data["metadata"]
    meta.update(name=name, namespace=namespace, labels={"app": deployment or name})
    del meta["uid"], meta["resourceVersion"], meta["generateName"]
    if deployment:
        meta["labels"]["pod-template-hash"] = "7d9f8c6b5"
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "controller": True,
                "kind": "ReplicaSet",
                "name": f"{deployment}-7d9f8c6b5",
                "uid": f"uid-{deployment}",
            }
        ]
    else:
        del meta["ownerReferences"]
    data["spec"].update(nodeName=node, hostname=name)
    data["spec"]["containers"][0].update(name="main", image=image)
    status = data["status"]["containerStatuses"][0]
    repo = image.rsplit(":", 1)[0] if "@" not in image else image.split("@", 1)[0]
    status.update(name="main", image=image, containerID=f"containerd://{name}")
    if running:
        status["imageID"] = f"{repo}@{digest}"
    else:
        data["status"]["phase"] = "Pending"
        status.update(
            imageID="", ready=False, started=False, state={"waiting": {"reason": "ContainerCreating"}}
        )
    return data


async def record_statuses(dsn: str) -> None:
    """Keep every status each image takes (the ``images`` table exists: migrations have run)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS test_status_log (id bigserial PRIMARY KEY, digest text, status text);
            CREATE OR REPLACE FUNCTION test_log_status() RETURNS trigger AS $$
            BEGIN
              INSERT INTO test_status_log (digest, status) VALUES (NEW.digest, NEW.status);
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE OR REPLACE TRIGGER test_status_log AFTER INSERT OR UPDATE OF status ON images
              FOR EACH ROW EXECUTE FUNCTION test_log_status();
            """
        )
    finally:
        await conn.close()


async def statuses_seen(dsn: str) -> dict[str, list[str]]:
    """digest -> the statuses it took, in order (consecutive repeats folded)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT digest, status FROM test_status_log ORDER BY id")
    finally:
        await conn.close()
    seen: dict[str, list[str]] = {}
    for row in rows:
        trail = seen.setdefault(row["digest"], [])
        if not trail or trail[-1] != row["status"]:
            trail.append(row["status"])
    return seen
