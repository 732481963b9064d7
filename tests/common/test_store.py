"""Store and migrations against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import get_args

import asyncpg
import msgspec
import pytest

from schemas import Finding
from schemas.vocabulary import Severity, severity_rank, severity_rank_sql
from services.common.errors import StoreError
from services.common.store import Store, migrate
from services.common.store.migrate import available_migrations
from services.dedupe.store.states import image_states
from services.policy.store import stored_findings
from tests.harness.seed import evaluate, sight


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


def finding(n: int, *, digest: str = "sha256:img", severity: str = "HIGH", fixed: str = "") -> Finding:
    return Finding(
        finding_id=f"{digest}/CVE/CVE-2024-{n:04d}/pkg{n}",
        category="CVE",
        id=f"CVE-2024-{n:04d}",
        severity=severity,
        title=f"bug {n}",
        package_name=f"pkg{n}",
        purl=f"pkg:deb/debian/pkg{n}@1.0",
        installed_version="1.0",
        fixed_version=fixed,
    )


async def test_migrations_are_recorded_and_idempotent(pg_dsn: str) -> None:
    shipped = available_migrations()
    assert [m.version for m in shipped][:1] == [1]
    for _ in range(2):
        s = await Store.connect(pg_dsn)
        await s.close()
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await migrate(conn) == []
        rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [(r["version"], r["name"]) for r in rows] == [(m.version, m.name) for m in shipped]
    finally:
        await conn.close()


async def test_concurrent_migrations_apply_each_file_once(pg_dsn: str) -> None:
    conns = [await asyncpg.connect(pg_dsn) for _ in range(6)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        assert sorted(v for applied in results for v in applied) == [
            m.version for m in available_migrations()
        ]
    finally:
        for c in conns:
            await c.close()


async def test_unlink_removes_one_environment_and_a_sighting_relinks(store: Store) -> None:
    for env in ("cluster:a", "cluster:b"):
        await sight(
            store, digest="sha256:u", image_ref="r@sha256:u", environment=env, repository="app", tag="1"
        )
    assert await store.unlink_image(digest="sha256:u", environment="cluster:a", repository="app") == 1
    assert await store.environments("sha256:u") == ["cluster:b"]
    assert await store.unlink_image(digest="sha256:u", environment="cluster:a", repository="app") == 0
    await sight(
        store, digest="sha256:u", image_ref="r@sha256:u", environment="cluster:a", repository="app", tag="1"
    )
    assert await store.environments("sha256:u") == ["cluster:a", "cluster:b"]


async def test_status_and_images(store: Store) -> None:
    await sight(store, digest="sha256:s", image_ref="r@sha256:s", environment="e1", repository="a", tag="1")
    [image] = await image_states(store.pool)
    assert image["status"] == "pending"
    assert image["environments"] == ["e1"]
    await store.set_status("sha256:s", "scanning", scan_id="scan-1")
    await store.set_status("sha256:s", "failed", error="layer 2 truncated")
    [image] = await image_states(store.pool)
    assert (image["status"], image["scan_id"], image["error"]) == ("failed", "scan-1", "layer 2 truncated")
    await store.set_status("sha256:s", "scanned")
    [image] = await image_states(store.pool)
    assert image["error"] is None
    assert image["scanned_at"] is not None

    await store.set_status("sha256:never-claimed", "scanned", scan_id="scan-2")
    assert {i["digest"] for i in await image_states(store.pool)} == {"sha256:s", "sha256:never-claimed"}
    with pytest.raises(StoreError):
        await store.set_status("sha256:s", "bogus")  # type: ignore[arg-type]


async def test_save_scan_is_idempotent(store: Store, pg_dsn: str) -> None:
    packages = msgspec.json.encode([{"name": "bash", "version": "5.2"}])
    for _ in range(2):
        await store.save_scan("scan-1", "sha256:p", b'{"ref": "r"}', packages, "[]", "assay/0.1")
    conn = await asyncpg.connect(pg_dsn)
    try:
        rows = await conn.fetch("SELECT packages::text AS p FROM scans")
    finally:
        await conn.close()
    assert [msgspec.json.decode(r["p"]) for r in rows] == [[{"name": "bash", "version": "5.2"}]]


async def test_evaluations_report_new_changed_and_replays_as_unchanged(store: Store) -> None:
    first = [finding(1), finding(2, severity="CRITICAL")]
    assert [state for _, state in await evaluate(store, "sha256:img", first, evaluation_id="e1")] == [
        "new",
        "new",
    ]
    # the same evaluation again (a redelivered scan): nothing new, its changes republished as unchanged
    assert [state for _, state in await evaluate(store, "sha256:img", first, evaluation_id="e1")] == [
        "unchanged",
        "unchanged",
    ]
    fixed = [finding(1, fixed="1.1"), finding(2, severity="CRITICAL"), finding(3)]
    result = dict(
        (f.finding_id, s) for f, s in await evaluate(store, "sha256:img", fixed, evaluation_id="e2")
    )
    assert result == {finding(1).finding_id: "changed", finding(3).finding_id: "new"}  # 2 did not change

    stored = await stored_findings(store.pool, "sha256:img")
    assert stored[0].finding_id == finding(2).finding_id  # most severe first
    assert {f.finding_id for f in stored} == {f.finding_id for f in fixed}
    assert await stored_findings(store.pool, "sha256:other") == []
    assert len(await stored_findings(store.pool)) == 3


async def test_concurrent_replays_of_an_evaluation_yield_one_new(store: Store) -> None:
    results = await asyncio.gather(
        *(evaluate(store, "sha256:img", [finding(7)], evaluation_id="e7") for _ in range(10))
    )
    assert [state for r in results for _, state in r].count("new") == 1


async def test_unreachable_database_is_a_store_error() -> None:
    with pytest.raises(StoreError) as caught:
        await Store.connect("postgresql://postgres@127.0.0.1:1/none")
    assert caught.value.__cause__ is not None


async def test_the_sql_severity_rank_agrees_with_the_python_one(pg_dsn: str) -> None:
    spellings = [*get_args(Severity), "critical", "Medium", "none", "WEIRD", ""]
    conn = await asyncpg.connect(pg_dsn)
    try:
        rows = await conn.fetch(
            f"SELECT s, {severity_rank_sql('s')} AS rank FROM unnest($1::text[]) AS s", spellings
        )
    finally:
        await conn.close()
    assert {r["s"]: r["rank"] for r in rows} == {s: severity_rank(s) for s in spellings}


async def test_migration_0009_spells_stored_severities_as_the_vocabulary_does(store: Store) -> None:
    legacy = {"a": "critical", "b": "Medium", "c": "WEIRD", "d": "LOW", "e": "none"}
    async with store.pool.acquire() as conn:
        for fid, severity in legacy.items():
            await conn.execute(
                "INSERT INTO findings (finding_id, digest, category, vuln_id, severity)"
                " VALUES ($1, 'd', 'CVE', $1, $2)",
                fid,
                severity,
            )
        [sql] = [m.sql for m in available_migrations() if m.version == 9]
        await conn.execute(sql)
        rows = await conn.fetch("SELECT finding_id, severity FROM findings ORDER BY 1")
    assert {r["finding_id"]: r["severity"] for r in rows} == {
        "a": "CRITICAL",
        "b": "MEDIUM",
        "c": "UNKNOWN",
        "d": "LOW",
        "e": "NONE",
    }


async def test_stored_timestamps_are_read_in_the_wire_format(store: Store) -> None:
    await sight(
        store, digest="sha256:t", image_ref="r/app@sha256:t", environment="cluster:a", repository="app"
    )
    await store.set_status("sha256:t", "scanned", scan_id="s1")
    [image] = await image_states(store.pool)
    stamps = [image[k] for k in ("first_seen", "updated_at", "scanned_at", "requested_at")]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s) for s in stamps), stamps
