"""The per-layer content cache in S3 (moto): a second engine answers its content results from the bucket."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.aws import AwsClients
from services.common.errors import ConfigError
from services.engine.catalogers.registry import select
from services.engine.content.cache_s3 import S3Backend
from services.engine.content.registry import ContentAnalysis, build_layer_cache
from services.engine.content.settings import ContentSettings, LayerCacheSettings
from services.engine.core import detect
from services.engine.image.targets import parse_target
from services.settings import Settings
from tests.harness.moto import MotoServer

BUCKET = "assay-cache"


async def _scan(content: ContentAnalysis, target: str) -> tuple[list[tuple[str, str, str, bool]], int]:
    image = await parse_target(target).open()
    async with image:
        bound = content.bind(image.info.layers)
        completed = await detect(
            image, scan_id="s", catalogers=select(), vulndb=None, analyzers=bound.analyzers
        )
        bound.commit()
    found = sorted((d.category, d.rule_id, d.path, d.deleted) for d in completed.detections)
    return found, bound.cached_layers


async def test_a_second_engine_gets_its_content_results_from_s3(
    moto: MotoServer, aws_clients: AwsClients, fixtures: Path
) -> None:
    s3 = await aws_clients.client("s3")
    await s3.create_bucket(Bucket=BUCKET)
    settings = Settings(
        content=ContentSettings(analyzers=["secrets", "insecure"]),
        layer_cache=LayerCacheSettings(backend="s3"),
        aws=moto.aws_config(s3_bucket=BUCKET, s3_prefix="team-a"),
    )
    target = f"oci:{fixtures}/content/oci/planted"
    # two engine replicas: separate processes' worth of objects, one bucket between them
    first, second = ContentAnalysis.from_settings(settings), ContentAnalysis.from_settings(settings)
    assert first.cache is not None
    assert isinstance(first.cache.backend, S3Backend)

    before, hits = await _scan(first, target)
    assert hits == 0
    assert any(category == "InsecureContent" for category, *_ in before)
    listed = await s3.list_objects_v2(Bucket=BUCKET, Prefix="team-a/layer-cache/")
    assert listed["KeyCount"] == 2 * 3  # two analyzers x three layers

    after, hits = await _scan(second, target)
    assert hits == 2 * 3  # every (analyzer, layer) answered from S3
    assert after == before


def test_s3_failures_are_misses_and_the_setting_is_checked(moto: MotoServer) -> None:
    backend = S3Backend.from_config(moto.aws_config(s3_bucket="no-such-bucket"))
    assert backend.get("ab" * 32) is None
    backend.put("ab" * 32, b"{}")  # logged, forgotten
    with pytest.raises(ConfigError, match="ASSAY_AWS_S3_BUCKET"):
        build_layer_cache(Settings(layer_cache=LayerCacheSettings(backend="s3")))
    with pytest.raises(ConfigError, match="layer_cache_backend"):
        build_layer_cache(Settings(layer_cache=LayerCacheSettings(backend="redis")))  # type: ignore[arg-type]
