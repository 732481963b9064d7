"""The ``aws`` settings section and its ``ASSAY_AWS_*`` variables."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from services.common.config import child_environment
from services.common.errors import ConfigError
from services.settings import load_settings


def test_aws_variables_fill_the_aws_section() -> None:
    settings = load_settings(
        {
            "ASSAY_AWS_REGION": "eu-west-1",
            "ASSAY_AWS_ENDPOINT_URL": "http://127.0.0.1:5005",
            "ASSAY_AWS_ECR": "true",
            "ASSAY_AWS_ECR_REGISTRY_IDS": "123456789012, 210987654321",
            "ASSAY_AWS_ECS": "1",
            "ASSAY_AWS_ECS_CLUSTERS": "prod",
            "ASSAY_AWS_S3_BUCKET": "b",
            "ASSAY_AWS_REGISTRY_HOST_OVERRIDES": '{"*.dkr.ecr.*.amazonaws.com": "127.0.0.1:5000"}',
            "ASSAY_KAFKA_CLAIM_CHECK_BYTES": "1000",
            "ASSAY_LAYER_CACHE_BACKEND": "s3",
        }
    )
    aws = settings.aws
    assert (aws.region, aws.endpoint_url, aws.ecr, aws.ecs, aws.s3_bucket) == (
        "eu-west-1",
        "http://127.0.0.1:5005",
        True,
        True,
        "b",
    )
    assert aws.ecr_registry_ids == ["123456789012", "210987654321"]
    assert aws.ecs_clusters == ["prod"]
    assert aws.registry_host_overrides == {"*.dkr.ecr.*.amazonaws.com": "127.0.0.1:5000"}
    assert (settings.kafka.claim_check_bytes, settings.layer_cache.backend) == (1000, "s3")
    assert load_settings({}).aws.ecr is False


def test_environment_merges_over_the_file_section(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_bytes(msgspec.json.encode({"aws": {"s3_bucket": "from-file", "region": "ap-south-1"}}))
    settings = load_settings({"ASSAY_AWS_S3_BUCKET": "from-env"}, config_file=str(config))
    assert (settings.aws.s3_bucket, settings.aws.region) == ("from-env", "ap-south-1")
    env = child_environment(settings, tmp_path / "child.json")
    # the child reads the merged section from the settings file
    assert load_settings({}, config_file=env["ASSAY_CONFIG"]).aws == settings.aws


def test_bad_overrides_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="ASSAY_AWS_REGISTRY_HOST_OVERRIDES"):
        load_settings({"ASSAY_AWS_REGISTRY_HOST_OVERRIDES": '["not", "an object"]'})
    with pytest.raises(ConfigError, match="ASSAY_AWS_REGISTRY_HOST_OVERRIDES"):
        load_settings({"ASSAY_AWS_REGISTRY_HOST_OVERRIDES": "{nope"})
