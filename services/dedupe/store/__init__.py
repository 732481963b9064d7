"""Dedupe's store code: durable scan claims (``claims``) and the workload context of sightings
(``workloads``), over the pool ``services.common.store.Store`` opens."""

from services.dedupe.store.claims import Claimed, Claims, Sighting, scan_id_for
from services.dedupe.store.workloads import WorkloadSighting, WorkloadWrites

__all__ = ["Claimed", "Claims", "Sighting", "WorkloadSighting", "WorkloadWrites", "scan_id_for"]
