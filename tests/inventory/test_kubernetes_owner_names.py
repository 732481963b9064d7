"""Deployment and CronJob from names alone (``owner_names``), on real-shaped pod JSON."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from services.inventory.kubernetes.owner_names import cronjob_from_job, deployment_from_replicaset
from services.inventory.kubernetes.owners import by_name
from services.inventory.kubernetes.pods import Workload

TESTDATA = Path(__file__).parent / "testdata" / "pods"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TESTDATA / name).read_text())
    return data


def job_pod(job: str, created: str | None) -> dict[str, Any]:
    """The Deployment fixture turned into a pod of Job ``job``, as the Job controller labels it."""
    pod = load("deployment-running.json")
    meta = pod["metadata"]
    meta["labels"] = {"batch.kubernetes.io/job-name": job, "job-name": job}
    meta["ownerReferences"] = [
        {"apiVersion": "batch/v1", "controller": True, "kind": "Job", "name": job, "uid": "u"}
    ]
    if created is None:
        del meta["creationTimestamp"]
    else:
        meta["creationTimestamp"] = created
    return pod


def test_deployment_pod_fixture_names_its_deployment() -> None:
    pod = load("deployment-running.json")  # ReplicaSet web-7c5ddbdf54, pod-template-hash 7c5ddbdf54
    assert deployment_from_replicaset(pod, "web-7c5ddbdf54") == "web"
    assert by_name(pod) == Workload("Deployment", "shop", "web")


@pytest.mark.parametrize(
    ("replicaset", "hash_label", "expected"),
    [
        ("payments-api-6b9f7d8c5", "6b9f7d8c5", "payments-api"),  # dashes in the Deployment's name
        ("web-7c5ddbdf54", None, None),  # no pod-template-hash label: a bare ReplicaSet
        ("web-7c5ddbdf54", "", None),
        ("web-7c5ddbdf54", "aaaaaaaa", None),  # the label does not end the name
        ("7c5ddbdf54", "7c5ddbdf54", None),  # nothing left for a Deployment name
        ("-7c5ddbdf54", "7c5ddbdf54", None),
    ],
)
def test_deployment_from_replicaset(replicaset: str, hash_label: str | None, expected: str | None) -> None:
    pod = copy.deepcopy(load("deployment-running.json"))
    labels = pod["metadata"]["labels"]
    if hash_label is None:
        del labels["pod-template-hash"]
    else:
        labels["pod-template-hash"] = hash_label
    assert deployment_from_replicaset(pod, replicaset) == expected


@pytest.mark.parametrize(
    ("job", "created", "expected"),
    [
        ("backup-28571520", "2024-04-28T08:00:04Z", "backup"),  # scheduled 2024-04-28T08:00Z
        ("nightly-db-backup-28571520", "2024-05-02T10:14:31Z", "nightly-db-backup"),  # a retried pod
        ("backup-28571520", None, "backup"),  # no creation time: the name alone decides
        ("backup-28571520", "2024-04-28T07:59:00Z", "backup"),  # within the clock-skew allowance
        ("backup-28571520", "2024-04-28T07:50:00Z", None),  # pod older than the schedule: not a CronJob's
        ("backup-28571520", "not a time", "backup"),  # unreadable time: the name alone decides
        ("migrate-2", "2024-05-02T10:14:31Z", None),  # too few digits for a Unix minute
        ("migrate-0028571520", "2024-05-02T10:14:31Z", None),  # leading zero: not a formatted integer
        ("backup-28571520x", "2024-05-02T10:14:31Z", None),
        ("backup", "2024-05-02T10:14:31Z", None),
        ("-28571520", "2024-05-02T10:14:31Z", None),
    ],
)
def test_cronjob_from_job(job: str, created: str | None, expected: str | None) -> None:
    assert cronjob_from_job(job_pod(job, created), job) == expected


def test_by_name_for_every_controller_shape() -> None:
    assert by_name(job_pod("backup-28571520", "2024-04-28T08:00:04Z")) == Workload(
        "CronJob", "shop", "backup"
    )
    assert by_name(job_pod("migrate", "2024-04-28T08:00:04Z")) == Workload("Job", "shop", "migrate")
    sts = load("statefulset-dockershim-running.json")
    assert by_name(sts) == Workload("StatefulSet", "data", "cache")
    bare = load("bare-ephemeral-local-id.json")
    assert by_name(bare).kind == "Pod"
    assert by_name(bare).name == bare["metadata"]["name"]
