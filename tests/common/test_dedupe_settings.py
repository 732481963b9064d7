"""Dedupe's settings: the size limit, OUs on registries, and the analysis version that drives rescans."""

from __future__ import annotations

from pathlib import Path

from services.common.config import load_settings
from services.dedupe.run import dedupe_config
from services.dedupe.version import analysis_version
from services.engine.core import ANALYZER_VERSION


def test_size_limit_and_registry_ou_come_from_the_environment() -> None:
    settings = load_settings(
        environ={"ASSAY_MAX_IMAGE_SIZE_MB": "10", "ASSAY_REGISTRIES": "r.example;ou=payments,other.example"}
    )
    assert settings.max_image_size_mb == 10
    assert [(r.host, r.ou) for r in settings.registries] == [("r.example", "payments"), ("other.example", "")]
    assert dedupe_config(settings).max_image_bytes == 10 << 20
    assert load_settings(environ={}).max_image_size_mb == 2048
    clusters = load_settings(environ={"ASSAY_CLUSTERS": '[{"name": "prod", "ou": "payments"}]'}).clusters
    assert clusters[0].ou == "payments"


def test_the_analysis_version_follows_the_content_analyzers_and_their_rulesets(tmp_path: Path) -> None:
    base = load_settings(environ={"ASSAY_DATA_DIR": str(tmp_path)})
    version = analysis_version(base)
    assert version.startswith(ANALYZER_VERSION + "+")
    assert analysis_version(base) == version  # deterministic
    fewer = load_settings(environ={"ASSAY_DATA_DIR": str(tmp_path), "ASSAY_CONTENT_ANALYZERS": "secrets"})
    assert analysis_version(fewer) != version
    changed = load_settings(environ={"ASSAY_DATA_DIR": str(tmp_path), "ASSAY_SECRET_MAX_BYTES": str(1 << 20)})
    assert analysis_version(changed) != version  # a result-changing limit is in the fingerprint
