"""Policy follows the updater's builds: rematch publishes new and resolved findings with no rescan,
and advisory data older than two intervals becomes a finding and an alert on the system itself."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from schemas.events import Alert, FindingEvent, ScanCompleted
from schemas.records import VulnMatch
from services.common.bus.kafka import KafkaBus
from services.common.objectstore import DirectoryObjectStore
from services.common.runner import Outgoing
from services.common.store.postgres import Store
from services.common.store.scans import latest_scans
from services.engine.catalogers.registry import select
from services.engine.core import detect
from services.engine.image.targets import parse_target
from services.policy.advisories import AdvisoryFollower, announcement_handler
from services.policy.catalog import load_rulesets
from services.policy.freshness import STALE_ID, SYSTEM_DIGEST
from services.policy.service import make_policy_handler
from services.policy.store import stored_findings
from services.updater.service import update_once
from services.vulndb.builds import BuildFollower, BuildHolder
from services.vulndb.db import VulnDB
from services.vulndb.matcher import match_packages
from tests.harness.seed import sight
from tests.updater.conftest import make_due, updater_plan, write_osv


async def _inventory(fixtures: Path) -> ScanCompleted:
    source = parse_target(f"oci:{fixtures}/oci/debian", registries=[], platform="linux/amd64")
    image = await source.open()
    async with image:
        return await detect(
            image, scan_id="scan-1", catalogers=select(("image",)), vulndb=None, version="0.1.0+engine-x"
        )


def _two_matches(
    vuln_db: Path, scanned: ScanCompleted, records: dict[str, Any]
) -> list[tuple[VulnMatch, set[str]]]:
    """Two matches on two packages whose Debian records are disjoint."""
    with VulnDB.open(vuln_db) as db:
        matches = match_packages(db, scanned.image.distro, scanned.packages).matches
    picked: list[tuple[VulnMatch, set[str]]] = []
    used: set[str] = set()
    for m in sorted(matches, key=lambda m: (m.package_name, m.vuln_id)):
        ids = {i for i in m.advisory_ids if i in records}
        if ids and not ids & used and all(m.package_name != p.package_name for p, _ in picked):
            picked.append((m, ids))
            used |= ids
        if len(picked) == 2:
            return picked
    raise AssertionError("the fixture should match at least two Debian advisories")


class _Published:
    def __init__(self) -> None:
        self.events: list[Outgoing] = []

    async def __call__(self, events: Sequence[Outgoing]) -> None:
        self.events += events

    def states(self, digest: str) -> dict[str, str]:
        return {
            o.event.finding.id: o.event.state
            for o in self.events
            if isinstance(o.event, FindingEvent)
            and o.event.digest == digest
            and o.event.finding.category == "CVE"
        }


async def test_a_newer_build_is_rematched_into_new_and_resolved_findings_without_a_rescan(
    fixtures: Path,
    vuln_db: Path,
    store: Store,
    bus: KafkaBus,
    objects: DirectoryObjectStore,
    debian_records: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    scanned = await _inventory(fixtures)
    (x, x_ids), (z, z_ids) = _two_matches(vuln_db, scanned, debian_records)
    digest = scanned.image.digest
    await sight(
        store, digest=digest, image_ref=scanned.image.ref, environment="registry:t", repository="d", tag="1"
    )
    rulesets = load_rulesets()
    await make_policy_handler(store, rulesets)(scanned)  # stores the inventory; no advisories yet

    source = tmp_path / "osv"
    plan = updater_plan(source, tmp_path / "w")
    published = _Published()
    rematches: list[float] = []  # the durations the policy's metrics get
    follower = AdvisoryFollower(
        store=store,
        rulesets=rulesets,
        builds=BuildFollower(BuildHolder(tmp_path / "cache", objects), store.builds.latest_announcement),
        publish=published,
        interval_s=3600,
        updater_interval_s=plan.interval_s,
        observe_rematch=rematches.append,
    )
    write_osv(source, [debian_records[i] for i in sorted(x_ids)])
    await update_once(plan, bus, store, objects)
    assert await follower.step() is not None
    assert published.states(digest).get(x.vuln_id) == "new"
    assert z.vuln_id not in published.states(digest)

    # the newer set drops x's advisories and adds z's
    published.events.clear()
    await make_due(store)
    write_osv(source, [debian_records[i] for i in sorted(z_ids)])
    await update_once(plan, bus, store, objects)
    wake = asyncio.Event()
    latest = await store.builds.latest_announcement()
    assert latest is not None
    await announcement_handler(wake)(latest)
    assert wake.is_set()  # an announcement wakes the follower at once
    assert await follower.step() is not None
    states = published.states(digest)
    assert states.get(z.vuln_id) == "new"
    assert states.get(x.vuln_id) == "resolved"
    assert await follower.step() is None  # the same build is not rematched twice
    assert len(rematches) == 2  # one duration per rematch done
    assert all(d > 0 for d in rematches)
    [scan] = await latest_scans(store.pool, digest)
    assert scan.scan_id == "scan-1"  # no rescan: the stored inventory was matched again
    async with store.pool.acquire() as conn:  # the engine's analysis version travelled with the scan
        assert await conn.fetchval("SELECT analyzer_version FROM scans") == "0.1.0+engine-x"


async def test_stale_advisory_data_raises_a_finding_and_an_alert_on_the_system(
    store: Store,
    bus: KafkaBus,
    objects: DirectoryObjectStore,
    debian_records: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    source = tmp_path / "osv"
    write_osv(source, [debian_records[i] for i in sorted(debian_records)[:5]])
    plan = updater_plan(source, tmp_path / "w", interval_s=3600)
    await update_once(plan, bus, store, objects)
    published = _Published()
    follower = AdvisoryFollower(
        store=store,
        rulesets=load_rulesets(),
        builds=BuildFollower(BuildHolder(tmp_path / "cache", objects), store.builds.latest_announcement),
        publish=published,
        interval_s=3600,
        updater_interval_s=plan.interval_s,
    )
    await follower.step()
    assert not [o for o in published.events if isinstance(o.event, Alert)]  # fresh: nothing to say

    await make_due(store, "130 minutes")  # the updater has not refreshed for 2 h 10 min
    await follower.step()
    stale = [o.event for o in published.events if isinstance(o.event, FindingEvent)]
    assert [(e.digest, e.finding.id, e.state) for e in stale] == [(SYSTEM_DIGEST, STALE_ID, "new")]
    assert [o.event.digest for o in published.events if isinstance(o.event, Alert)] == [SYSTEM_DIGEST]
    [finding] = await stored_findings(store.pool, SYSTEM_DIGEST)
    assert finding.severity == "HIGH"
    assert "2.2 h ago" in finding.description
    published.events.clear()
    await follower.step()
    assert published.events == []  # recorded once, not again on every look

    await update_once(plan, bus, store, objects)  # a successful refresh (sources unchanged)
    await follower.step()
    resolved = [
        (o.event.finding.id, o.event.state) for o in published.events if isinstance(o.event, FindingEvent)
    ]
    assert resolved == [(STALE_ID, "resolved")]
    assert await stored_findings(store.pool, SYSTEM_DIGEST) == []
