"""Scan claims against real PostgreSQL: requests, re-publication, Too Large, rescans, the sweep."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.common.store.postgres import Store
from services.dedupe.store.claims import Claims, Sighting, scan_id_for
from services.dedupe.store.states import image_states

V1, V2 = "analysis-1", "analysis-2"


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


def _seen(digest: str = "sha256:aa", env: str = "cluster:a", **kw: object) -> Sighting:
    fields: dict[str, object] = {
        "digest": digest,
        "image_ref": f"r.example/team/app@{digest}",
        "environment": env,
        "repository": "team/app",
        "tag": "1",
    }
    fields.update(kw)
    return Sighting(**fields)  # type: ignore[arg-type]


async def _image(store: Store, digest: str) -> dict[str, object]:
    [image] = [i for i in await image_states(store.pool) if i["digest"] == digest]
    return image


async def test_a_batch_claims_each_digest_once_and_links_every_sighting(store: Store) -> None:
    claims = Claims(store.pool)
    batch = [
        _seen("sha256:aa", "cluster:a", ou="team-a"),
        _seen("sha256:aa", "cluster:b"),
        _seen("sha256:bb"),
    ]
    claimed = await claims.claim(batch, analysis_version=V1, max_image_bytes=0)
    assert sorted(c.digest for c in claimed) == ["sha256:aa", "sha256:bb"]
    aa = next(c for c in claimed if c.digest == "sha256:aa")
    assert aa.scan_id == scan_id_for("sha256:aa", V1, 1)  # SQL and Python agree
    assert aa.reason == "new"
    assert aa.environments == ["cluster:a", "cluster:b"]
    image = await _image(store, "sha256:aa")
    assert image["status"] == "pending"
    assert image["scan_id"] == aa.scan_id
    assert image["environments"] == ["cluster:a", "cluster:b"]
    assert image["ous"] == ["team-a"]


async def test_an_unconfirmed_claim_is_requested_again_with_the_same_scan_id(store: Store) -> None:
    claims = Claims(store.pool)
    [first] = await claims.claim([_seen()], analysis_version=V1, max_image_bytes=0)
    # the publish failed: no mark_published; the redelivered sighting gets the same request back
    [again] = await claims.claim([_seen()], analysis_version=V1, max_image_bytes=0)
    assert again == first
    await claims.mark_published([again])
    assert await claims.claim([_seen(env="cluster:z")], analysis_version=V1, max_image_bytes=0) == []
    assert (await _image(store, "sha256:aa"))["published_at"] is not None


async def test_concurrent_claims_of_one_digest_request_it_once(pg_dsn: str) -> None:
    stores = [await Store.connect(pg_dsn) for _ in range(4)]
    try:

        async def claim_and_confirm(s: Store, env: str) -> int:
            claimed = await Claims(s.pool).claim([_seen(env=env)], analysis_version=V1, max_image_bytes=0)
            await Claims(s.pool).mark_published(claimed)
            return len(claimed)

        counts = await asyncio.gather(*(claim_and_confirm(s, f"cluster:{n}") for n, s in enumerate(stores)))
        # racing replicas may each see the claim before its confirmation, but never a new generation
        assert sum(counts) >= 1
        image = await _image(stores[0], "sha256:aa")
        assert image["scan_generation"] == 1
        assert len(image["environments"]) == 4  # type: ignore[arg-type]
    finally:
        for s in stores:
            await s.close()


async def test_unscannable_sightings_link_without_a_request_until_a_scannable_one(store: Store) -> None:
    claims = Claims(store.pool)
    fargate = _seen(env="ecs:prod", scannable=False, image_ref="123.dkr.ecr/app@sha256:aa")
    assert await claims.claim([fargate], analysis_version=V1, max_image_bytes=0) == []
    image = await _image(store, "sha256:aa")
    assert (image["status"], image["requested_at"], image["scannable"]) == ("pending", None, False)
    [claimed] = await claims.claim([_seen()], analysis_version=V1, max_image_bytes=0)
    assert claimed.image_ref == "r.example/team/app@sha256:aa"  # the pullable reference
    assert claimed.scan_id == scan_id_for("sha256:aa", V1, 1)


async def test_a_scanned_digest_seen_unscannable_keeps_its_status(store: Store) -> None:
    claims = Claims(store.pool)
    [claimed] = await claims.claim([_seen()], analysis_version=V1, max_image_bytes=0)
    await claims.mark_published([claimed])
    await store.set_status("sha256:aa", "scanned", scan_id=claimed.scan_id)
    fargate = _seen(env="ecs:prod", scannable=False)
    assert await claims.claim([fargate], analysis_version=V1, max_image_bytes=0) == []
    image = await _image(store, "sha256:aa")
    assert image["status"] == "scanned"
    assert "ecs:prod" in image["environments"]


async def test_an_image_over_the_size_limit_is_too_large_without_a_request(store: Store) -> None:
    claims = Claims(store.pool)
    big = _seen(size_bytes=3_000_000_000)
    assert await claims.claim([big], analysis_version=V1, max_image_bytes=2048 << 20) == []
    image = await _image(store, "sha256:aa")
    assert image["status"] == "too_large"
    assert "3000000000 bytes" in str(image["error"])
    assert await claims.claim([big], analysis_version=V1, max_image_bytes=2048 << 20) == []
    small = _seen("sha256:bb", size_bytes=1_000)
    assert len(await claims.claim([small], analysis_version=V1, max_image_bytes=2048 << 20)) == 1


async def test_a_new_analysis_version_rescans_on_the_next_sighting_only_once(store: Store) -> None:
    claims = Claims(store.pool)
    [first] = await claims.claim([_seen()], analysis_version=V1, max_image_bytes=0)
    await claims.mark_published([first])
    await store.set_status("sha256:aa", "scanned", scan_id=first.scan_id)
    assert await claims.claim([_seen()], analysis_version=V1, max_image_bytes=0) == []
    [rescan] = await claims.claim([_seen()], analysis_version=V2, max_image_bytes=0)
    assert rescan.reason == "analyzer-changed"
    assert rescan.scan_id == scan_id_for("sha256:aa", V2, 2) != first.scan_id
    await claims.mark_published([rescan])
    assert await claims.claim([_seen()], analysis_version=V2, max_image_bytes=0) == []


async def test_rescan_on_purpose_makes_a_new_generation(store: Store) -> None:
    claims = Claims(store.pool)
    claimed = await claims.claim([_seen(), _seen("sha256:bb")], analysis_version=V1, max_image_bytes=0)
    first = next(c for c in claimed if c.digest == "sha256:aa")
    await claims.claim([_seen("sha256:cc", scannable=False)], analysis_version=V1, max_image_bytes=0)
    await store.set_status("sha256:aa", "scanned", scan_id=first.scan_id)
    requested = await claims.rescan(["sha256:aa"], analysis_version=V1)
    assert [(c.digest, c.reason, c.scan_id) for c in requested] == [
        ("sha256:aa", "requested", scan_id_for("sha256:aa", V1, 2))
    ]
    assert (await _image(store, "sha256:aa"))["status"] == "pending"
    everything = await claims.rescan(None, analysis_version=V1)
    assert sorted(c.digest for c in everything) == ["sha256:aa", "sha256:bb"]  # not the unscannable one


async def test_the_sweep_re_requests_stuck_scans_then_gives_up(store: Store) -> None:
    claims = Claims(store.pool)
    [claimed] = await claims.claim([_seen()], analysis_version=V1, max_image_bytes=0)
    await claims.mark_published([claimed])
    assert await claims.mark_scanning("sha256:aa", claimed.scan_id)
    assert (await _image(store, "sha256:aa"))["status"] == "scanning"
    assert await claims.sweep(timeout_s=3600, max_attempts=2) == []  # not stuck yet
    [retry] = await claims.sweep(timeout_s=0, max_attempts=2)
    assert (retry.scan_id, retry.reason, retry.environments) == (claimed.scan_id, "retry", ["cluster:a"])
    assert (await _image(store, "sha256:aa"))["status"] == "pending"
    assert await claims.sweep(timeout_s=0, max_attempts=2) == []  # second attempt used up
    image = await _image(store, "sha256:aa")
    assert image["status"] == "failed"
    assert "no scan result after 2 requests" in str(image["error"])


async def test_an_image_known_only_from_a_result_gets_the_sightings_reference(store: Store) -> None:
    claims = Claims(store.pool)
    await store.set_status("sha256:aa", "scanned", scan_id="from-assay-scan")  # no reference, no version
    [claimed] = await claims.claim([_seen()], analysis_version=V1, max_image_bytes=0)
    assert claimed.image_ref == "r.example/team/app@sha256:aa"
    assert claimed.reason == "analyzer-changed"
