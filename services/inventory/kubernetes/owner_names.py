"""The Deployment or CronJob behind a pod, from names alone: no API call, so RBAC is pods list/watch.

Kubernetes' own controllers name what they create after their owner, and a pod carries enough to
undo that:

- The Deployment controller names each ReplicaSet ``<deployment>-<pod-template-hash>`` and puts the
  same hash on every pod as the ``pod-template-hash`` label. A pod controlled by a ReplicaSet whose
  name is ``X-<that label>`` belongs to Deployment ``X``.
- The CronJob controller names each Job ``<cronjob>-<scheduled time in Unix minutes>`` (a CronJob's
  name is capped at 52 characters so that this fits in 63). A pod controlled by a Job named
  ``X-<digits>``, whose digits read as a minute at or after 1989-01-05 (eight or more digits) and
  not after the pod was created, belongs to CronJob ``X``.

Both are heuristics and the docstrings of the functions say where they can be wrong. Operators who
grant ``get`` on replicasets and jobs can turn on ``owner_lookups`` (``ClusterConfig``) to read the
owner chain instead (``owners.OwnerResolver``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

__all__ = ["cronjob_from_job", "deployment_from_replicaset"]

# the Deployment controller's own label on pods it templates
POD_TEMPLATE_HASH: Final = "pod-template-hash"
# <cronjob>-<unix minutes>: 8+ digits is on or after 1989-01-05 (10,000,000 minutes after the epoch)
_JOB_NAME_RE: Final = re.compile(
    r"^(?P<cronjob>[a-z0-9]([-a-z0-9.]*[a-z0-9])?)-(?P<minutes>[1-9][0-9]{7,9})$"
)
# a pod can be created a little before the controller's clock says the schedule came (clock skew)
_SKEW_S: Final = 120


def _labels(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = pod.get("metadata")
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    return labels if isinstance(labels, Mapping) else {}


def _created_s(pod: Mapping[str, Any]) -> float | None:
    """The pod's ``metadata.creationTimestamp`` as Unix seconds, None when absent or unreadable."""
    meta = pod.get("metadata")
    stamp = meta.get("creationTimestamp") if isinstance(meta, Mapping) else None
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def deployment_from_replicaset(pod: Mapping[str, Any], replicaset: str) -> str | None:
    """The Deployment that made ``replicaset`` (the pod's controller), or None when the names say not.

    Wrong only when someone creates a bare ReplicaSet named ``X-<hash>`` whose pod template carries a
    ``pod-template-hash`` label equal to that suffix by hand; Argo Rollouts and other controllers use
    their own label (``rollouts-pod-template-hash``), so their ReplicaSets stay ReplicaSets.
    """
    value = _labels(pod).get(POD_TEMPLATE_HASH)
    if not isinstance(value, str) or not value:
        return None
    suffix = f"-{value}"
    if not replicaset.endswith(suffix) or len(replicaset) == len(suffix):
        return None
    return replicaset[: -len(suffix)]


def cronjob_from_job(pod: Mapping[str, Any], job: str) -> str | None:
    """The CronJob that made ``job`` (the pod's controller), or None when the name does not fit.

    Wrong for a Job someone names ``X-<8 to 10 digits>`` by hand with a number that reads as a past
    minute (``migrate-20240501`` reads as 2008-05-07); right for ``kubectl create job --from=cronjob``
    only when the user picked such a name. When the pod's creation time is known, a number that
    reads as a minute after the pod was created is refused: a CronJob schedules its Job first.
    """
    match = _JOB_NAME_RE.match(job)
    if match is None:
        return None
    scheduled_s = int(match["minutes"]) * 60
    created = _created_s(pod)
    if created is not None and scheduled_s > created + _SKEW_S:
        return None
    return match["cronjob"]
