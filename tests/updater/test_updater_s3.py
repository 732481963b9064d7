"""Advisory builds through S3 (a moto server): what a deployment without a shared volume uses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.common.aws import AwsClients
from services.common.bus.kafka import KafkaBus
from services.common.config import DataSettings
from services.common.objectstore import S3ObjectStore
from services.common.store.postgres import Store
from services.settings import Settings
from services.updater.service import update_once
from services.vulndb.builds import advisory_objects, open_followed
from tests.harness.moto import MotoServer, moto_server
from tests.updater.conftest import updater_plan, write_osv

BUCKET = "assay-advisories"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


async def test_a_build_stored_in_s3_is_loaded_by_an_engine_from_there(
    moto: MotoServer, store: Store, bus: KafkaBus, debian_records: dict[str, Any], tmp_path: Path
) -> None:
    settings = Settings(
        data=DataSettings(dir=str(tmp_path / "engine-data")),
        aws=moto.aws_config(s3_bucket=BUCKET, s3_prefix="prod/"),
    )
    async with AwsClients(settings.aws) as clients:
        s3 = await clients.client("s3")
        await s3.create_bucket(Bucket=BUCKET)
        objects = await advisory_objects(settings, clients)
        assert isinstance(objects, S3ObjectStore)

        source = tmp_path / "osv"
        write_osv(source, [debian_records[i] for i in sorted(debian_records)[:8]])
        await update_once(updater_plan(source, tmp_path / "updater"), bus, store, objects)
        build = await store.builds.latest()
        assert build is not None
        listed = await s3.list_objects_v2(Bucket=BUCKET, Prefix="prod/advisories/")
        assert [o["Key"] for o in listed["Contents"]] == [f"prod/{build.object_key}"]

        follower = await open_followed(settings, store.builds.latest_announcement, clients, "engine")
        try:
            assert follower.holder.build_id == build.build_id
            with follower.holder.lease() as db:
                assert db is not None
                assert int(db.meta()["advisories"]) == 8
        finally:
            follower.holder.close()
