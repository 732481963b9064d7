"""Scenario 3: advisory refresh as deployed by the default install, the updater on its shared volume.

The chart rendered with its default values but a short test interval (``updater.intervalSeconds``):
the updater is on, and with no S3 bucket its builds go to the shared volume (a ReadWriteMany
claim, ``objectStore.volume``) that engines and policy mount too. The updater builds the advisory
database from the source (a copy of the Debian and Alpine exports), stores it there and announces
it; engines and policy take it without a restart (the cluster's pod starts once they hold it).
Then the source changes: one advisory the running Debian image is affected by is withdrawn from
the export and a new one is added. On the updater's next pass the new build is announced, policy
rematches the stored inventory, and a ``resolved`` and a ``new`` finding event appear on
``assay.findings.v1`` with no second scan of the image; no workload restarted.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from schemas.events import FindingEvent
from schemas.topics import Topics
from tests.harness.fake_kube import FakeKube
from tests.pipeline.harness import read_topic
from tests.system.cluster import pod
from tests.system.endpoints import Endpoints
from tests.system.kubelet import Kubelet, running_fleet
from tests.system.scenario import counts, registry_digest, wait_for_images
from tests.system.tls_registry import TlsRegistry
from tests.system.workloads import rendered_workloads

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(900)]

INTERVAL_S = 20
VALUES = {"updater": {"intervalSeconds": INTERVAL_S}}  # everything else as installed by default
WITHDRAWN = "CVE-2024-2398"  # curl in the Debian fixture: its record leaves the export
ADDED = "CVE-2099-0001"  # a made-up advisory for the same curl: it joins the export


def _export(vulndata: Path, target: Path) -> Path:
    """The advisory source: the Debian and Alpine exports of ../shared/vulndata."""
    for ecosystem in ("Debian", "Alpine"):
        (target / ecosystem).mkdir(parents=True, exist_ok=True)
        shutil.copy(vulndata / ecosystem / "all.zip", target / ecosystem / "all.zip")
    return target


def _change_debian(source: Path) -> None:
    """Withdraw WITHDRAWN's record from the Debian export and add ADDED's (a copy aimed at curl)."""
    path = source / "Debian" / "all.zip"
    with zipfile.ZipFile(path) as old:
        records = {n: old.read(n) for n in old.namelist()}
    withdrawn = f"x_DEBCL-{WITHDRAWN}.json"
    record = json.loads(records.pop(withdrawn))
    record.update(id=f"x_DEBCL-{ADDED}", upstream=[ADDED], summary=f"{ADDED}: a test advisory")
    record["modified"] = record["published"] = "2099-01-01T00:00:00Z"
    records[f"x_DEBCL-{ADDED}.json"] = json.dumps(record).encode()
    staged = path.with_suffix(".new")
    with zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in records.items():
            new.writestr(name, data)
    staged.replace(path)  # as a mirror replaces the file: atomically


async def _until(limit_s: float, what: str, check: Callable[[], Awaitable[bool]]) -> None:
    deadline = time.monotonic() + limit_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(1.0)


def _finding_states(events: list[FindingEvent], digest: str, vuln: str) -> list[str]:
    return [e.state for e in events if e.digest == digest and e.finding.id == vuln]


async def test_a_new_advisory_build_reaches_findings_without_rescan_or_restart(
    registry: TlsRegistry,
    endpoints: Endpoints,
    kube: FakeKube,
    vulndata: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    host = registry.host
    web = registry_digest(host, "shop/web:1.0")
    source = _export(vulndata, tmp_path_factory.mktemp("osv"))
    deployment = Endpoints(**{**endpoints.__dict__, "advisory_source": str(source)})
    workloads = rendered_workloads(VALUES, tmp_path_factory.mktemp("rendered"))
    assert "assay-updater" in {w.name for w in workloads}
    shared = {w.name for w in workloads if "objects" in w.shared_volumes}
    assert shared >= {"assay-updater", "assay-engine", "assay-policy"}  # the builds' one volume
    async with running_fleet(Kubelet(deployment, tmp_path_factory.mktemp("fleet")), workloads) as fleet:

        async def findings() -> list[FindingEvent]:
            events = await read_topic(endpoints.kafka_bootstrap, Topics.FINDINGS, quiet_s=0.5)
            return [e for _, e in events if isinstance(e, FindingEvent)]

        async def matched() -> bool:
            return "new" in _finding_states(await findings(), web, WITHDRAWN)

        async def first_build_taken() -> bool:  # every engine and policy pod holds the first build
            return all(
                "advisory database: now build" in fleet.log(p.name, p.workload.containers[0].name)
                for w in ("assay-engine", "assay-policy")
                for p in fleet.pods_of(w)
            )

        await _until(300, "the first build in every engine and policy pod", first_build_taken)
        kube.add_pod(pod("shop", "web-1", image=f"{host}/shop/web:1.0", digest=web, deployment="web"))
        await wait_for_images(endpoints.pg_dsn, fleet, 1)
        await _until(300, f"{WITHDRAWN} found on the first build", matched)
        _change_debian(source)

        async def rematched() -> bool:
            events = await findings()
            return "resolved" in _finding_states(events, web, WITHDRAWN) and "new" in _finding_states(
                events, web, ADDED
            )

        await _until(300, "the next build's rematch", rematched)
        restarts = [e for e in fleet.events if e.startswith(("assay-engine", "assay-policy"))]
        updater_log = fleet.logs("assay-updater")
    requested, done = await counts(endpoints.kafka_bootstrap, fleet.shared("objects"))
    assert requested == {web: 1}  # the rematch did not scan again
    assert done == {web: 1}
    assert restarts == []  # engines and policy switched builds without a restart
    assert updater_log.count("announced build") >= 2
