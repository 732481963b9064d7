"""Package inventories kept in S3 (moto) with their key in real PostgreSQL, and read back for rematch."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest

from schemas.events import ScanCompleted
from schemas.records import Distro, ImageInfo, PackageRecord
from services.common.aws import AwsClients
from services.common.objectstore import S3ObjectStore
from services.common.store.postgres import Store
from services.common.store.scans import latest_scans
from services.policy.catalog import load_rulesets
from services.policy.inventories import Inventories, MissingInventory, inventory_key
from services.policy.service import make_policy_handler

BUCKET = "assay-inventories"
DIGEST = "sha256:" + "7" * 64
PACKAGES = [
    PackageRecord(
        name="openssl", version="3.0.11-1~deb12u2", type="deb", purl="pkg:deb/debian/openssl@3.0.11-1~deb12u2"
    ),
    PackageRecord(name="requests", version="2.25.0", type="pypi", purl="pkg:pypi/requests@2.25.0"),
]
SCAN = ScanCompleted(
    scan_id="scan-s3-1",
    image=ImageInfo(
        ref=f"r.example/app@{DIGEST}", digest=DIGEST, distro=Distro(id="debian", version_id="12")
    ),
    packages=PACKAGES,
    analyzer_version="test",
)


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


@pytest.fixture
async def s3_objects(aws_clients: AwsClients) -> S3ObjectStore:
    s3 = await aws_clients.client("s3")
    await s3.create_bucket(Bucket=BUCKET)
    return S3ObjectStore(s3, BUCKET, "assay/")


async def test_the_policy_keeps_the_inventory_in_s3_and_only_its_key_in_postgresql(
    store: Store, s3_objects: S3ObjectStore, pg_dsn: str
) -> None:
    inventories = Inventories(store, s3_objects)
    handle = make_policy_handler(store, load_rulesets(), inventories)
    await handle(SCAN)
    await handle(SCAN)  # a redelivery rewrites the same object and adds no row
    rows = await store.pool.fetch(
        "SELECT packages::text AS packages, packages_ref FROM scans WHERE digest = $1", DIGEST
    )
    assert [(r["packages"], r["packages_ref"]) for r in rows] == [("[]", inventory_key(DIGEST, SCAN.scan_id))]
    stored = await s3_objects.get(inventory_key(DIGEST, SCAN.scan_id))
    assert stored is not None
    assert msgspec.json.decode(stored, type=list[PackageRecord]) == PACKAGES
    [scan] = await latest_scans(store.pool, DIGEST)
    assert msgspec.json.decode(await inventories.packages_json(scan), type=list[PackageRecord]) == PACKAGES


async def test_without_an_object_store_the_inventory_stays_inline(store: Store) -> None:
    inventories = Inventories(store)
    await inventories.save(SCAN)
    [scan] = await latest_scans(store.pool, DIGEST)
    assert scan.packages_ref == ""
    assert msgspec.json.decode(await inventories.packages_json(scan), type=list[PackageRecord]) == PACKAGES


async def test_a_missing_inventory_object_is_an_error_naming_the_scan(
    store: Store, s3_objects: S3ObjectStore, aws_clients: AwsClients
) -> None:
    inventories = Inventories(store, s3_objects)
    await inventories.save(SCAN)
    s3 = await aws_clients.client("s3")
    await s3.delete_object(Bucket=BUCKET, Key="assay/" + inventory_key(DIGEST, SCAN.scan_id))
    [scan] = await latest_scans(store.pool, DIGEST)
    with pytest.raises(MissingInventory, match="scan-s3-1"):
        await inventories.packages_json(scan)
