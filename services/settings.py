"""The composed settings of every Assay process: one section per concern, declared beside its owner.

The composition root: only entrypoints (``services/cli``) import this module at run time;
services take ``Settings`` as a type only (``TYPE_CHECKING``) or the sections they need, so no
service's import closure reaches another service through it. Loading, environment names
(``ASSAY_<SECTION>_<FIELD>``, derived from the field path) and validation live in
``services/common/config.py``; ``docs/configuration.md`` lists the sections.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec

from services.admission.settings import AdmissionConfig
from services.api.settings import ApiSettings, AuthConfig
from services.common import config
from services.common.config import (
    AwsConfig,
    DataSettings,
    DbSettings,
    KafkaSettings,
    MetricsConfig,
    ObjectStoreSettings,
    OtelSettings,
    PgSettings,
    RegistryConfig,
)
from services.dedupe.settings import DedupeSettings
from services.engine.budget import ScanBudget
from services.engine.content.malware.settings import MalwareSettings
from services.engine.content.netioc.settings import FeedsSettings
from services.engine.content.secrets.settings import SecretSettings
from services.engine.content.settings import ContentSettings, LayerCacheSettings
from services.engine.licenses.settings import LicenseSettings
from services.engine.settings import EngineSettings, ScanSettings
from services.harbor.settings import HarborConfig
from services.inventory.settings import ClusterConfig, CrawlSettings, EnvironmentsSettings, WebhooksConfig
from services.node.settings import ContainerdSettings, NodeSettings
from services.oci.settings import CredentialsConfig
from services.policy.settings import RematchSettings, RulesetsSettings
from services.updater.settings import UpdaterConfig


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything configurable, with its default; each field is a section or a shared value."""

    # shared values: where images come from and how they are pulled
    registries: list[RegistryConfig] = []  # ASSAY_REGISTRIES: JSON, or host;flag,... (parse_registries)
    platform: str = "linux/amd64"
    # images whose layers add up to more than this are marked too_large, never pulled (dedupe, engine)
    max_image_size_mb: Annotated[int, msgspec.Meta(ge=0)] = 2048
    # shared sections (services/common/config_shared.py, config_kafka.py)
    data: DataSettings = msgspec.field(default_factory=DataSettings)
    db: DbSettings = msgspec.field(default_factory=DbSettings)
    pg: PgSettings = msgspec.field(default_factory=PgSettings)
    kafka: KafkaSettings = msgspec.field(default_factory=KafkaSettings)
    object_store: ObjectStoreSettings = msgspec.field(default_factory=ObjectStoreSettings)
    otel: OtelSettings = msgspec.field(default_factory=OtelSettings)
    metrics: MetricsConfig = msgspec.field(default_factory=MetricsConfig)
    aws: AwsConfig = msgspec.field(default_factory=AwsConfig)
    credentials: CredentialsConfig = msgspec.field(default_factory=CredentialsConfig)  # registry credentials
    # the analysis (services/engine): one budget per scan, isolation, content analyzers
    budget: ScanBudget = msgspec.field(default_factory=ScanBudget)
    scan: ScanSettings = msgspec.field(default_factory=ScanSettings)
    content: ContentSettings = msgspec.field(default_factory=ContentSettings)
    layer_cache: LayerCacheSettings = msgspec.field(default_factory=LayerCacheSettings)
    secret: SecretSettings = msgspec.field(default_factory=SecretSettings)
    malware: MalwareSettings = msgspec.field(default_factory=MalwareSettings)
    feeds: FeedsSettings = msgspec.field(default_factory=FeedsSettings)
    license: LicenseSettings = msgspec.field(default_factory=LicenseSettings)
    # one section per service
    engine: EngineSettings = msgspec.field(default_factory=EngineSettings)
    crawl: CrawlSettings = msgspec.field(default_factory=CrawlSettings)
    clusters: list[ClusterConfig] = []  # ASSAY_CLUSTERS: a JSON list of cluster objects
    webhooks: WebhooksConfig = msgspec.field(default_factory=WebhooksConfig)
    environments: EnvironmentsSettings = msgspec.field(default_factory=EnvironmentsSettings)
    dedupe: DedupeSettings = msgspec.field(default_factory=DedupeSettings)
    rulesets: RulesetsSettings = msgspec.field(default_factory=RulesetsSettings)
    rematch: RematchSettings = msgspec.field(default_factory=RematchSettings)
    api: ApiSettings = msgspec.field(default_factory=ApiSettings)
    auth: AuthConfig = msgspec.field(default_factory=AuthConfig)
    node: NodeSettings = msgspec.field(default_factory=NodeSettings)
    containerd: ContainerdSettings = msgspec.field(default_factory=ContainerdSettings)
    updater: UpdaterConfig = msgspec.field(default_factory=UpdaterConfig)
    harbor: HarborConfig = msgspec.field(default_factory=HarborConfig)
    admission: AdmissionConfig = msgspec.field(default_factory=AdmissionConfig)

    @property
    def effective_data_dir(self) -> Path:
        return Path(self.data.dir) if self.data.dir else Path.home() / ".cache" / "assay"

    @property
    def effective_db_path(self) -> Path:
        return Path(self.db.path) if self.db.path else self.effective_data_dir / "vuln.db"

    @property
    def effective_feeds_path(self) -> Path:
        return Path(self.feeds.path) if self.feeds.path else self.effective_data_dir / "feeds.json"

    @property
    def effective_layer_cache_dir(self) -> Path:
        cache = self.layer_cache.dir
        return Path(cache) if cache else self.effective_data_dir / "layer-cache"

    def registry(self, host: str) -> RegistryConfig | None:
        """The configuration for a registry host, if any."""
        for reg in self.registries:
            if reg.host == host:
                return reg
        return None


# variables renamed when the settings became sections: setting one is an error naming the new name
RENAMED = {
    "ASSAY_CONSUMER_GROUP_PREFIX": "ASSAY_KAFKA_CONSUMER_GROUP_PREFIX",
    "ASSAY_CLAIM_CHECK_BYTES": "ASSAY_KAFKA_CLAIM_CHECK_BYTES",
    "ASSAY_LAYER_CACHE": "ASSAY_LAYER_CACHE_ENABLED",
    "ASSAY_YARA_RULES_DIR": "ASSAY_MALWARE_YARA_RULES_DIR",
    "ASSAY_CLAMD_ADDRESS": "ASSAY_MALWARE_CLAMD_ADDRESS",
    "ASSAY_SHA256_BLOCKLIST": "ASSAY_MALWARE_SHA256_BLOCKLIST",
    "ASSAY_SCAN_TIMEOUT_S": "ASSAY_DEDUPE_SCAN_TIMEOUT_S",
    "ASSAY_MAX_SCAN_ATTEMPTS": "ASSAY_DEDUPE_MAX_SCAN_ATTEMPTS",
}


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """``Settings`` from an optional JSON file, ``ASSAY_*`` variables and nested ``overrides``, checked.

    Precedence: overrides > environment > file > defaults. Every error names its variable.
    """
    settings = config.load(Settings, environ, config_file, overrides, renamed=RENAMED)
    config.check_positive(settings.budget, "ASSAY_BUDGET")
    # the Kafka protocol and SASL settings are checked together where the bus opens (kafka_security):
    # a process without a bus needs none of them, and their secrets may come from elsewhere
    return settings


def env_names() -> set[str]:
    """Every ``ASSAY_*`` variable a process reads (besides ``ASSAY_CONFIG``)."""
    return {var.name for var in config.env_variables(Settings)}
