"""The policy handler against a real PostgreSQL: assignments, lifecycle events, redelivery, skips."""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from schemas.events import Alert, FindingEvent, ScanCompleted, ScanFailed, ScanSkipped
from schemas.records import Detection, ImageInfo, VulnMatch
from schemas.topics import Topics
from services.common.runner import Outgoing
from services.common.store import Store
from services.dedupe.store.states import image_states
from services.policy.catalog import Rulesets, load_rulesets
from services.policy.ruleset import finding_id
from services.policy.service import make_policy_handler
from services.policy.store import Lifecycle, stored_findings
from tests.harness.seed import sight

DIGEST = "sha256:" + "ef" * 32
REF = f"127.0.0.1:5000/team/app@{DIGEST}"
RULESETS_DIR = Path(__file__).parent / "testdata" / "rulesets"

SECRET = Detection(
    category="InsecureContent",
    rule_id="aws-access-key-id",
    severity="HIGH",
    title="AWS access key id",
    path="/srv/app/.env",
    evidence="AKIA…(sha256:0f1e2d3c)",
)


def _match(n: int, severity: str, *, fixed: str = "") -> VulnMatch:
    return VulnMatch(
        vuln_id=f"CVE-2024-{n:04d}",
        package_name=f"pkg{n}",
        package_version="1.0",
        package_purl=f"pkg:deb/debian/pkg{n}@1.0",
        severity=severity,
        fixed_version=fixed,
        fix_state="fixed" if fixed else "not-fixed",
    )


def _scan(scan_id: str, matches: Sequence[VulnMatch], detections: Sequence[Detection] = ()) -> ScanCompleted:
    return ScanCompleted(
        scan_id=scan_id,
        image=ImageInfo(ref=REF, digest=DIGEST),
        matches=list(matches),
        detections=list(detections),
    )


def _findings(out: Sequence[Outgoing]) -> list[FindingEvent]:
    events = [o.event for o in out if isinstance(o.event, FindingEvent)]
    for o in out:
        if isinstance(o.event, FindingEvent):
            assert o.topic == Topics.FINDINGS
            assert o.key == o.event.finding.finding_id  # keyed by finding id, not digest
    return events


def _states(out: Sequence[Outgoing]) -> dict[tuple[str, str, str], str]:
    return {(e.finding.ruleset, e.finding.category, e.finding.id): e.state for e in _findings(out)}


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


@pytest.fixture
def rulesets() -> Rulesets:
    return load_rulesets(str(RULESETS_DIR))


async def _claim(store: Store, environment: str, ou: str = "") -> None:
    await sight(
        store, digest=DIGEST, image_ref=REF, environment=environment, repository="team/app", tag="1", ou=ou
    )


async def test_assignment_precedence_environment_over_ou_over_default(store: Store) -> None:
    await _claim(store, "registry:a", ou="team-a")
    await _claim(store, "cluster:b", ou="team-a")
    await _claim(store, "cluster:c")
    lifecycle, assigned = Lifecycle(store.pool), store.assignments
    assert await lifecycle.environment_rulesets(DIGEST) == {
        "cluster:b": "default",
        "cluster:c": "default",
        "registry:a": "default",
    }
    await assigned.assign("ou", "team-a", "prod")
    await assigned.assign("environment", "cluster:b", "lenient")
    await assigned.assign("ou", "", "lenient")  # an environment without OU never takes an "" OU assignment
    assert await lifecycle.environment_rulesets(DIGEST) == {
        "cluster:b": "lenient",
        "cluster:c": "default",
        "registry:a": "prod",
    }
    assert await assigned.unassign("environment", "cluster:b")
    assert not await assigned.unassign("environment", "cluster:b")
    assert (await lifecycle.environment_rulesets(DIGEST))["cluster:b"] == "prod"
    await assigned.assign("ou", "team-a", "lenient")  # re-assigning replaces
    assert [(a.scope, a.name, a.ruleset) for a in await assigned.all()] == [
        ("ou", "", "lenient"),
        ("ou", "team-a", "lenient"),
    ]


async def test_new_changed_resolved_and_redelivery(store: Store, rulesets: Rulesets) -> None:
    await _claim(store, "registry:a")
    handle = make_policy_handler(store, rulesets)

    first = await handle(_scan("scan-1", [_match(1, "HIGH"), _match(2, "LOW")], [SECRET]))
    assert _states(first) == {
        ("default", "CVE", "CVE-2024-0001"): "new",
        ("default", "CVE", "CVE-2024-0002"): "new",
        ("default", "InsecureContent", "aws-access-key-id"): "new",
    }
    assert not [o for o in first if isinstance(o.event, Alert)]  # 1 HIGH, 2 CVEs: no default threshold
    stored = await stored_findings(store.pool, DIGEST)
    assert len(stored) == 3
    secret = next(f for f in stored if f.category == "InsecureContent")
    assert (secret.path, secret.evidence) == ("/srv/app/.env", SECRET.evidence)
    assert (await image_states(store.pool))[0]["status"] == "scanned"

    # a redelivery of the same scan stores nothing new and republishes that scan's findings as unchanged
    again = await handle(_scan("scan-1", [_match(1, "HIGH"), _match(2, "LOW")], [SECRET]))
    assert _states(again) == dict.fromkeys(_states(first), "unchanged")
    assert {e.evaluation for e in _findings(again)} == {"scan-1"}
    assert len(await stored_findings(store.pool, DIGEST)) == 3

    # the next scan: CVE 1 gets a fix and a new severity, CVE 2 is gone, CVE 3 appears; the secret stays
    second = await handle(
        _scan("scan-2", [_match(1, "CRITICAL", fixed="1.1"), _match(3, "MEDIUM")], [SECRET])
    )
    assert _states(second) == {
        ("default", "CVE", "CVE-2024-0001"): "changed",
        ("default", "CVE", "CVE-2024-0003"): "new",
        ("default", "CVE", "CVE-2024-0002"): "resolved",
        ("default", "ImageScan", "threshold:default"): "new",
    }
    changed = next(e.finding for e in _findings(second) if e.state == "changed")
    assert (changed.severity, changed.fixed_version, changed.fix_state) == ("CRITICAL", "1.1", "fixed")
    alerts = [(o.key, o.event.reason) for o in second if isinstance(o.event, Alert)]
    assert alerts == [(DIGEST, "CRITICAL 1 >= 1")]
    states = await Lifecycle(store.pool).finding_states(DIGEST)
    assert collections.Counter(states.values()) == {"new": 3, "changed": 1, "resolved": 1}
    assert {f.id for f in await stored_findings(store.pool, DIGEST)} == {
        "CVE-2024-0001",
        "CVE-2024-0003",
        "aws-access-key-id",
        "threshold:default",
    }
    assert len(await stored_findings(store.pool, DIGEST, include_resolved=True)) == 5

    # the resolved one comes back as new; the same content again publishes nothing
    third = await handle(
        _scan("scan-3", [_match(1, "CRITICAL", fixed="1.1"), _match(2, "LOW"), _match(3, "MEDIUM")], [SECRET])
    )
    assert _states(third) == {("default", "CVE", "CVE-2024-0002"): "new"}
    assert (
        await handle(
            _scan(
                "scan-4",
                [_match(1, "CRITICAL", fixed="1.1"), _match(2, "LOW"), _match(3, "MEDIUM")],
                [SECRET],
            )
        )
        == []
    )
    # a late redelivery of scan 2 changes nothing and never re-announces a "new"
    replayed = await handle(_scan("scan-2", [_match(1, "CRITICAL", fixed="1.1")], [SECRET]))
    assert "new" not in _states(replayed).values()
    assert [o.event.reason for o in replayed if isinstance(o.event, Alert)] == ["CRITICAL 1 >= 1"]
    assert (await Lifecycle(store.pool).finding_states(DIGEST))[
        finding_id(DIGEST, "CVE", "CVE-2024-0002", "pkg:deb/debian/pkg2@1.0")
    ] == "new"


async def test_one_image_under_two_rulesets_gets_findings_per_ruleset(
    store: Store, rulesets: Rulesets
) -> None:
    await _claim(store, "registry:a", ou="prod-team")
    await _claim(store, "cluster:dev")
    await store.assignments.assign("ou", "prod-team", "prod")
    handle = make_policy_handler(store, rulesets)
    out = await handle(_scan("scan-1", [_match(1, "HIGH")], [SECRET]))
    events = _findings(out)
    by_ruleset = collections.defaultdict(set)
    for e in events:
        by_ruleset[e.finding.ruleset].add((e.finding.category, e.finding.environment))
    assert by_ruleset == {
        "default": {("CVE", "cluster:dev"), ("InsecureContent", "cluster:dev")},
        "prod": {("CVE", "registry:a"), ("InsecureContent", "registry:a"), ("ImageScan", "registry:a")},
    }
    default_cve = next(
        e.finding for e in events if e.finding.ruleset == "default" and e.finding.category == "CVE"
    )
    assert default_cve.finding_id == finding_id(DIGEST, "CVE", "CVE-2024-0001", "pkg:deb/debian/pkg1@1.0")
    prod_alert = [o.event for o in out if isinstance(o.event, Alert)]
    # prod suppresses the unfixed CVE (published and stored, marked): only the secret counts
    prod_cve = next(e.finding for e in events if e.finding.ruleset == "prod" and e.finding.category == "CVE")
    assert (prod_cve.suppression, prod_cve.policy_rule) == ("no fix exists", "unfixed-is-accepted")
    assert [(a.ruleset, a.reason) for a in prod_alert] == [("prod", "HIGH 1 >= 1; InsecureContent 1 >= 1")]

    # moving the dev cluster to prod resolves the default ruleset's findings of this image
    await store.assignments.assign("environment", "cluster:dev", "prod")
    moved = await handle(_scan("scan-2", [_match(1, "HIGH")], [SECRET]))
    assert _states(moved) == {
        ("default", "CVE", "CVE-2024-0001"): "resolved",
        ("default", "InsecureContent", "aws-access-key-id"): "resolved",
        # the prod findings' environment list grew: not a lifecycle change, so not published
    }
    prod_cve = next(
        f for f in await stored_findings(store.pool, DIGEST) if f.ruleset == "prod" and f.category == "CVE"
    )
    assert prod_cve.environment == "cluster:dev, registry:a"


async def test_skipped_and_failed_scans_only_record_the_status(store: Store, rulesets: Rulesets) -> None:
    await _claim(store, "registry:a")
    handle = make_policy_handler(store, rulesets)
    skipped = ScanSkipped(
        scan_id="s-1", digest=DIGEST, image_ref=REF, status="too_large", reason="3000 MB > 2048 MB"
    )
    assert await handle(skipped) == []
    image = (await image_states(store.pool))[0]
    assert (image["status"], image["error"], image["scan_id"]) == ("too_large", "3000 MB > 2048 MB", "s-1")
    odd = ScanSkipped(scan_id="s-2", digest=DIGEST, image_ref=REF, status="sideways", reason="r")
    assert await handle(odd) == []
    assert (await image_states(store.pool))[0]["error"] == "scan skipped with unknown status 'sideways': r"
    assert (
        await handle(ScanFailed(scan_id="s-3", digest=DIGEST, image_ref=REF, error="layer 2/2 broken")) == []
    )
    assert (await image_states(store.pool))[0]["status"] == "failed"
    assert await stored_findings(store.pool, DIGEST) == []
