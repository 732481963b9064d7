"""Typed settings, read once at the entrypoint from ``ASSAY_*`` variables and an optional file.

This is the only module that reads ``os.environ``. Everything else receives a frozen
``Settings`` (or the part of it it needs) from its caller.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from services.common.errors import ConfigError
from services.engine.budget import ScanBudget


class RegistryConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A registry Assay may pull from (and, for inventory, crawl)."""

    host: str  # "127.0.0.1:5000", "ghcr.io", "registry-1.docker.io"
    insecure: bool = False  # plain HTTP; only ever for registries marked so
    username: str = ""
    password: str = ""
    crawl: bool = True  # inventory lists its catalog and tags
    repositories: list[str] = []  # crawl only these (empty: the whole catalog)
    ou: str = ""  # the organisational unit owning this registry's images (``ImageDiscovered.ou``)
    # HOST[:PORT]s besides the registry's own that may receive its credentials (a token realm on
    # another host, e.g. GitLab's); Docker Hub's auth.docker.io is known without being listed
    auth_hosts: list[str] = []


class ClusterConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A Kubernetes cluster whose running pods inventory watches (``services/inventory/kubernetes``)."""

    name: str  # the environment is "cluster:<name>"
    kubeconfig: str = ""  # a kubeconfig file; empty: the in-cluster service account
    context: str = ""  # a context of that kubeconfig; empty: its current-context
    namespaces: list[str] = []  # watch only these (empty: all namespaces)
    resync_interval_s: float = 600.0  # full re-list and diff, whatever the watch says
    page_size: int = 500  # list chunk size (``limit``/``continue``)
    backoff_initial_s: float = 0.5  # reconnect delay, doubled per failure, with full jitter
    backoff_max_s: float = 30.0
    # read ReplicaSets/Jobs to find their Deployment/CronJob (needs RBAC ``get`` on them); off: name-based
    owner_lookups: bool = False
    ou: str = ""  # the organisational unit owning this cluster's workloads (``ImageDiscovered.ou``)


class AwsConfig(msgspec.Struct, frozen=True, kw_only=True):
    """AWS sources and stores (``services/inventory/aws``, ``common/objectstore``): ``ASSAY_AWS_*``."""

    region: str = "us-east-1"
    endpoint_url: str = ""  # e.g. a moto server; empty: AWS itself
    access_key_id: str = ""  # empty: botocore's default chain (env, profile, IRSA, instance role)
    secret_access_key: str = ""
    ecr: bool = False  # inventory crawls ECR (describe_repositories/describe_images)
    ecr_registry_ids: list[str] = []  # account ids whose registries are crawled (empty: the caller's)
    ecr_repositories: list[str] = []  # crawl only these repositories (empty: all)
    ecr_token_margin_s: float = 300.0  # refresh an ECR registry token this long before it expires
    ecs: bool = False  # inventory polls ECS tasks (EC2 and Fargate)
    ecs_clusters: list[str] = []  # names or ARNs (empty: every cluster list_clusters returns)
    s3_bucket: str = ""  # the shared object store: claim-checked payloads, layer cache
    s3_prefix: str = "assay/"
    # registry host pattern (fnmatch) -> host that serves its data plane, e.g. a mirror or a test registry
    registry_host_overrides: dict[str, str] = {}


class WebhooksConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Registry notifications to inventory (services/inventory/webhooks/): ``ASSAY_WEBHOOKS_<FIELD>``."""

    listen: str = ""  # HOST:PORT inventory receives notifications on; "" = push off (crawl only)
    token: str = ""  # senders must present it (Authorization: Bearer TOKEN); required when listening
    max_body_bytes: int = 1024 * 1024  # a notification larger than this is refused


class AdmissionConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The admission gate (``assay service admission``, services/admission/): ``ASSAY_ADMISSION_<FIELD>``."""

    listen: str = "127.0.0.1:8443"  # HOST:PORT of the webhook (the API server calls it over HTTPS)
    tls_cert: str = ""  # PEM certificate and key the webhook serves; both required
    tls_key: str = ""
    cluster: str = "in-cluster"  # the environment it guards is cluster:<cluster>
    mode: Literal["enforce", "warn"] = "enforce"  # enforce: deny images over threshold; warn: admit, warn
    fail_closed: bool = False  # deny images Assay cannot judge (unknown, unscanned, unresolvable)
    exempt_namespaces: list[str] = msgspec.field(default_factory=lambda: ["kube-system"])  # never looked at
    resolve_timeout_s: float = 3.0  # resolving a tag to its digest through the registry


class HarborConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Harbor's scanner adapter (``assay service harbor``, services/harbor/): ``ASSAY_HARBOR_<FIELD>``."""

    listen: str = "127.0.0.1:8090"  # HOST:PORT Harbor's scanner registration points at
    api_key: str = ""  # when set, Harbor must send it (Authorization: Bearer KEY); "" = no key asked
    concurrency: int = 1  # scans at once in this process
    max_jobs: int = 1000  # accepted scans kept (running, or finished and not yet expired)
    report_ttl_s: float = 3600.0  # how long a finished report waits for Harbor to fetch it


class UpdaterConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The advisory updater (``assay service updater``, services/updater/): ``ASSAY_UPDATER_*``."""

    interval_s: float = 21600.0  # how often it refreshes (the seed's "every few hours"); data older
    # than two intervals raises an alert and a finding on the system itself
    source: str = ""  # the OSV source (URL or directory); "" = db_source
    kev_source: str = ""  # CISA's KEV catalog (path or URL); "" = the published one for URL sources
    epss_source: str = ""  # FIRST's EPSS CSV (path or URL); "" = none
    cvss_source: str = ""  # CVE JSON 5 records (tree or zip, path or URL) for CVSS; "" = none
    work_dir: str = ""  # where it keeps its working copy; "" = <data_dir>/updater


class KafkaSecurity(msgspec.Struct, frozen=True, kw_only=True):
    """How the Kafka clients authenticate (MSK, Confluent Cloud, Strimzi with SCRAM users)."""

    protocol: str = "PLAINTEXT"  # PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL
    sasl_mechanism: str = ""  # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
    username: str = ""
    password: str = ""
    ssl_cafile: str = ""  # a CA bundle for SSL/SASL_SSL; "" = the system's trust store


_KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def kafka_security(settings: Settings) -> KafkaSecurity:
    """The Kafka security settings, checked: a SASL mechanism without a protocol means SASL_SSL."""
    mechanism = settings.kafka_sasl_mechanism.upper()
    protocol = settings.kafka_security_protocol.upper() or ("SASL_SSL" if mechanism else "PLAINTEXT")
    if protocol not in _KAFKA_PROTOCOLS:
        choices = ", ".join(_KAFKA_PROTOCOLS)
        raise ConfigError(f"ASSAY_KAFKA_SECURITY_PROTOCOL: {protocol!r} is not one of {choices}")
    if protocol.startswith("SASL_"):
        if mechanism not in _SASL_MECHANISMS:
            choices = ", ".join(_SASL_MECHANISMS)
            shown = mechanism or "(empty)"
            raise ConfigError(f"ASSAY_KAFKA_SASL_MECHANISM: {shown!r} is not one of {choices}")
        if not settings.kafka_sasl_username or not settings.kafka_sasl_password:
            raise ConfigError("ASSAY_KAFKA_SASL_USERNAME and ASSAY_KAFKA_SASL_PASSWORD are needed for SASL")
    elif mechanism:
        raise ConfigError(f"ASSAY_KAFKA_SASL_MECHANISM is set but the security protocol is {protocol}")
    return KafkaSecurity(
        protocol=protocol,
        sasl_mechanism=mechanism if protocol.startswith("SASL_") else "",
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password,
        ssl_cafile=settings.kafka_ssl_cafile,
    )


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything configurable, with its default."""

    data_dir: str = ""  # local state: vulnerability DB, embedded PostgreSQL, broker
    db_path: str = ""  # the advisory database file; default <data_dir>/vuln.db
    db_source: str = "https://osv-vulnerabilities.storage.googleapis.com"
    pg_dsn: str = ""  # empty: embedded PostgreSQL under data_dir (``assay up``)
    kafka_bootstrap: str = ""  # empty: embedded broker (``assay up``)
    kafka_security_protocol: str = ""  # "" = PLAINTEXT, or SASL_SSL when a SASL mechanism is set
    kafka_sasl_mechanism: str = ""  # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    kafka_ssl_cafile: str = ""
    registries: list[RegistryConfig] = []
    clusters: list[ClusterConfig] = []  # ASSAY_CLUSTERS: a JSON list of cluster objects
    platform: str = "linux/amd64"
    max_file_bytes: int = 64 * 1024 * 1024  # per analysed file
    engine_concurrency: int = 2
    consumer_group_prefix: str = "assay"
    crawl_interval_s: float = 300.0
    otel_exporter: str = ""  # "", "console", "file:/path.jsonl", "otlp"
    service_name: str = "assay"
    api_listen: str = "127.0.0.1:8080"  # HOST:PORT of the read API (``assay service api``)
    # content analyzers (services/engine/content/registry.py): names to run; [] runs none
    content_analyzers: list[str] = msgspec.field(
        default_factory=lambda: ["secrets", "insecure", "malware", "netioc", "licenses"]
    )
    secret_max_bytes: int = 10 * 1024 * 1024  # larger files are not scanned for secrets
    secret_rules: str = ""  # a rules TOML file replacing the shipped secrets ruleset
    secret_allow_paths: list[str] = []  # globs never scanned for secrets, added to the ruleset's own
    secret_verify: bool = False  # ask providers whether found credentials work (network; off by default)
    yara_rules_dir: str = ""  # every *.yar/*.yara file there, compiled once per process
    clamd_address: str = ""  # "/run/clamav/clamd.ctl", "unix:/path" or "tcp:host:port"; "" = no ClamAV
    sha256_blocklist: str = ""  # a file of "<sha256> [name]" lines
    malware_max_bytes: int = 32 * 1024 * 1024  # larger executables/scripts/archives are not scanned
    feeds_path: str = ""  # threat feeds stored by `assay feeds update`; default <data_dir>/feeds.json
    license_policy: str = ""  # a license policy TOML replacing the shipped one
    layer_cache: bool = True  # cache content-analyzer results per layer diff_id
    layer_cache_dir: str = ""  # default <data_dir>/layer-cache
    layer_cache_backend: str = "dir"  # "dir" (layer_cache_dir) or "s3" (aws.s3_bucket, cache_s3.py)
    aws: AwsConfig = msgspec.field(default_factory=AwsConfig)
    object_store_dir: str = ""  # a local-directory object store, used when aws.s3_bucket is empty
    claim_check_bytes: int = 512 * 1024  # bus payloads larger than this go to the object store
    # images whose layers add up to more than this are marked too_large, never pulled (dedupe, engine)
    max_image_size_mb: int = 2048
    scan_timeout_s: float = 1800.0  # dedupe re-requests a scan still requested/scanning after this long
    dedupe_sweep_interval_s: float = 60.0  # how often dedupe looks for such stuck scans
    max_scan_attempts: int = 3  # requests of one scan before dedupe marks the image failed
    # the node daemon (``assay service node``, services/node/): one per Kubernetes node
    node_name: str = ""  # this node's name (the downward API's spec.nodeName)
    node_cluster: str = ""  # the cluster it belongs to: images are reported as "cluster:<node_cluster>"
    containerd_socket: str = "/run/containerd/containerd.sock"  # CRI and containerd's API
    containerd_namespace: str = "k8s.io"  # the kubelet's namespace (the only one CRI shows)
    node_listen: str = "0.0.0.0:5050"  # HOST:PORT of its read-only OCI distribution endpoint
    node_advertise: str = ""  # HOST:PORT engines pull from (the registry in its ImageDiscovered)
    node_token: str = ""  # the endpoint's token (Bearer, or the Basic password); never logged
    node_report_interval_s: float = 300.0  # how often every image on the node is reported again
    # the cluster whose registries this engine can reach: it then scans only requests routed to that
    # site (ScanRequested.sites) or to none; "" = no restriction, requests of every site
    engine_site: str = ""
    # the policy service (services/policy/): extra ruleset YAML files, and how often it looks
    # for a new advisory database build to rematch stored inventories against
    rulesets_dir: str = ""
    rematch_interval_s: float = 60.0
    # one budget per scan (services/engine/budget.py): ASSAY_BUDGET_<FIELD>, each checked positive
    budget: ScanBudget = msgspec.field(default_factory=ScanBudget)
    # analyse each image in a child process under the budget's limits (services/engine/isolate.py)
    scan_isolation: bool = True
    updater: UpdaterConfig = msgspec.field(default_factory=UpdaterConfig)
    harbor: HarborConfig = msgspec.field(default_factory=HarborConfig)
    admission: AdmissionConfig = msgspec.field(default_factory=AdmissionConfig)
    webhooks: WebhooksConfig = msgspec.field(default_factory=WebhooksConfig)

    @property
    def effective_data_dir(self) -> Path:
        return Path(self.data_dir) if self.data_dir else Path.home() / ".cache" / "assay"

    @property
    def effective_db_path(self) -> Path:
        return Path(self.db_path) if self.db_path else self.effective_data_dir / "vuln.db"

    @property
    def effective_feeds_path(self) -> Path:
        return Path(self.feeds_path) if self.feeds_path else self.effective_data_dir / "feeds.json"

    @property
    def effective_layer_cache_dir(self) -> Path:
        return Path(self.layer_cache_dir) if self.layer_cache_dir else self.effective_data_dir / "layer-cache"

    def registry(self, host: str) -> RegistryConfig | None:
        """The configuration for a registry host, if any."""
        for reg in self.registries:
            if reg.host == host:
                return reg
        return None


_ENV_FIELDS: dict[str, str] = {
    "ASSAY_DATA_DIR": "data_dir",
    "ASSAY_DB_PATH": "db_path",
    "ASSAY_DB_SOURCE": "db_source",
    "ASSAY_PG_DSN": "pg_dsn",
    "ASSAY_KAFKA_BOOTSTRAP": "kafka_bootstrap",
    "ASSAY_KAFKA_SECURITY_PROTOCOL": "kafka_security_protocol",
    "ASSAY_KAFKA_SASL_MECHANISM": "kafka_sasl_mechanism",
    "ASSAY_KAFKA_SASL_USERNAME": "kafka_sasl_username",
    "ASSAY_KAFKA_SASL_PASSWORD": "kafka_sasl_password",
    "ASSAY_KAFKA_SSL_CAFILE": "kafka_ssl_cafile",
    "ASSAY_PLATFORM": "platform",
    "ASSAY_MAX_FILE_BYTES": "max_file_bytes",
    "ASSAY_ENGINE_CONCURRENCY": "engine_concurrency",
    "ASSAY_CONSUMER_GROUP_PREFIX": "consumer_group_prefix",
    "ASSAY_CRAWL_INTERVAL_S": "crawl_interval_s",
    "ASSAY_OTEL_EXPORTER": "otel_exporter",
    "ASSAY_API_LISTEN": "api_listen",
    "ASSAY_SECRET_MAX_BYTES": "secret_max_bytes",
    "ASSAY_SECRET_RULES": "secret_rules",
    "ASSAY_SECRET_VERIFY": "secret_verify",
    "ASSAY_YARA_RULES_DIR": "yara_rules_dir",
    "ASSAY_CLAMD_ADDRESS": "clamd_address",
    "ASSAY_SHA256_BLOCKLIST": "sha256_blocklist",
    "ASSAY_MALWARE_MAX_BYTES": "malware_max_bytes",
    "ASSAY_FEEDS_PATH": "feeds_path",
    "ASSAY_LICENSE_POLICY": "license_policy",
    "ASSAY_LAYER_CACHE": "layer_cache",
    "ASSAY_LAYER_CACHE_DIR": "layer_cache_dir",
    "ASSAY_MAX_IMAGE_SIZE_MB": "max_image_size_mb",
    "ASSAY_SCAN_TIMEOUT_S": "scan_timeout_s",
    "ASSAY_DEDUPE_SWEEP_INTERVAL_S": "dedupe_sweep_interval_s",
    "ASSAY_MAX_SCAN_ATTEMPTS": "max_scan_attempts",
}
_ENV_FIELDS.update(
    {
        "ASSAY_LAYER_CACHE_BACKEND": "layer_cache_backend",
        "ASSAY_OBJECT_STORE_DIR": "object_store_dir",
        "ASSAY_CLAIM_CHECK_BYTES": "claim_check_bytes",
    }
)
_ENV_FIELDS.update(
    {
        "ASSAY_NODE_NAME": "node_name",
        "ASSAY_NODE_CLUSTER": "node_cluster",
        "ASSAY_CONTAINERD_SOCKET": "containerd_socket",
        "ASSAY_CONTAINERD_NAMESPACE": "containerd_namespace",
        "ASSAY_NODE_LISTEN": "node_listen",
        "ASSAY_NODE_ADVERTISE": "node_advertise",
        "ASSAY_NODE_TOKEN": "node_token",
        "ASSAY_NODE_REPORT_INTERVAL_S": "node_report_interval_s",
        "ASSAY_ENGINE_SITE": "engine_site",
    }
)
_ENV_FIELDS.update({"ASSAY_RULESETS_DIR": "rulesets_dir", "ASSAY_REMATCH_INTERVAL_S": "rematch_interval_s"})
_ENV_FIELDS["ASSAY_SCAN_ISOLATION"] = "scan_isolation"
# the ``budget`` section (ScanBudget): ASSAY_BUDGET_<FIELD> for every field
_ENV_BUDGET_FIELDS: dict[str, str] = {
    f"ASSAY_BUDGET_{name.upper()}": name for name in ScanBudget.__struct_fields__
}
# the ``aws`` section (AwsConfig): scalars, comma lists, and the JSON-object host overrides
_ENV_AWS_FIELDS: dict[str, str] = {
    "ASSAY_AWS_REGION": "region",
    "ASSAY_AWS_ENDPOINT_URL": "endpoint_url",
    "ASSAY_AWS_ACCESS_KEY_ID": "access_key_id",
    "ASSAY_AWS_SECRET_ACCESS_KEY": "secret_access_key",
    "ASSAY_AWS_ECR": "ecr",
    "ASSAY_AWS_ECR_TOKEN_MARGIN_S": "ecr_token_margin_s",
    "ASSAY_AWS_ECS": "ecs",
    "ASSAY_AWS_S3_BUCKET": "s3_bucket",
    "ASSAY_AWS_S3_PREFIX": "s3_prefix",
}
_ENV_AWS_LIST_FIELDS: dict[str, str] = {
    "ASSAY_AWS_ECR_REGISTRY_IDS": "ecr_registry_ids",
    "ASSAY_AWS_ECR_REPOSITORIES": "ecr_repositories",
    "ASSAY_AWS_ECS_CLUSTERS": "ecs_clusters",
}
_ENV_AWS_OVERRIDES = "ASSAY_AWS_REGISTRY_HOST_OVERRIDES"
# the ``updater`` section (UpdaterConfig)
_ENV_UPDATER_FIELDS: dict[str, str] = {
    "ASSAY_UPDATER_INTERVAL_S": "interval_s",
    "ASSAY_UPDATER_SOURCE": "source",
    "ASSAY_UPDATER_KEV_SOURCE": "kev_source",
    "ASSAY_UPDATER_EPSS_SOURCE": "epss_source",
    "ASSAY_UPDATER_CVSS_SOURCE": "cvss_source",
    "ASSAY_UPDATER_WORK_DIR": "work_dir",
}
# comma-separated lists ("" is an empty list)
_ENV_LIST_FIELDS: dict[str, str] = {
    "ASSAY_CONTENT_ANALYZERS": "content_analyzers",
    "ASSAY_SECRET_ALLOW_PATHS": "secret_allow_paths",
}


def parse_registries(value: str) -> list[RegistryConfig]:
    """Parse ``ASSAY_REGISTRIES``: a JSON list of registry objects, or a comma list of hosts.

    In the comma form a host may carry flags: ``127.0.0.1:5000;insecure`` or
    ``host;user=NAME;password=SECRET``; ``ou=UNIT`` sets its organisational unit;
    ``auth_host=HOST`` (repeatable) lets a token realm on HOST receive the credentials.
    """
    value = value.strip()
    if not value:
        return []
    if value.startswith("["):
        try:
            return msgspec.json.decode(value, type=list[RegistryConfig])
        except msgspec.ValidationError as exc:
            raise ConfigError(f"ASSAY_REGISTRIES: {exc}") from exc
    out: list[RegistryConfig] = []
    for item in value.split(","):
        parts = [p.strip() for p in item.split(";") if p.strip()]
        if not parts:
            continue
        auth_hosts: list[str] = []
        fields: dict[str, object] = {"host": parts[0], "auth_hosts": auth_hosts}
        for flag in parts[1:]:
            key, _, val = flag.partition("=")
            if key == "insecure":
                fields["insecure"] = True
            elif key in ("user", "username"):
                fields["username"] = val
            elif key == "password":
                fields["password"] = val
            elif key == "ou":
                fields["ou"] = val
            elif key == "auth_host":  # may receive this registry's credentials (a token realm's host)
                auth_hosts.append(val)
            else:
                raise ConfigError(f"ASSAY_REGISTRIES: unknown flag {key!r} for {parts[0]}")
        out.append(msgspec.convert(fields, RegistryConfig))
    return out


def _parse_json_list(value: str, setting: str) -> list[object]:
    """A setting holding a JSON list (empty text is an empty list); errors name the setting."""
    if not value.strip():
        return []
    try:
        data = msgspec.json.decode(value)
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{setting}: not JSON: {exc}") from exc
    if not isinstance(data, list):
        raise ConfigError(f"{setting}: must be a JSON list")
    return data


def _aws_from_env(env: Mapping[str, str]) -> dict[str, object]:
    """The ``aws`` section's fields set by ``ASSAY_AWS_*`` variables."""
    out: dict[str, object] = {field: env[var] for var, field in _ENV_AWS_FIELDS.items() if var in env}
    for var, field in _ENV_AWS_LIST_FIELDS.items():
        if var in env:
            out[field] = [item.strip() for item in env[var].split(",") if item.strip()]
    if env.get(_ENV_AWS_OVERRIDES, "").strip():
        try:
            overrides = msgspec.json.decode(env[_ENV_AWS_OVERRIDES])
        except msgspec.DecodeError as exc:
            raise ConfigError(f"{_ENV_AWS_OVERRIDES}: not JSON: {exc}") from exc
        if not isinstance(overrides, dict):
            raise ConfigError(f'{_ENV_AWS_OVERRIDES}: must be a JSON object {{"pattern": "host"}}')
        out["registry_host_overrides"] = overrides
    return out


def load_settings(
    environ: Mapping[str, str] | None = None, config_file: str | None = None, **overrides: object
) -> Settings:
    """Build ``Settings`` from an optional JSON file, ``ASSAY_*`` variables and overrides.

    Precedence: overrides > environment > file > defaults. Errors name the setting.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    path = config_file or env.get("ASSAY_CONFIG", "")
    if path:
        try:
            file_data = msgspec.json.decode(Path(path).read_bytes())
        except (OSError, msgspec.DecodeError) as exc:
            raise ConfigError(f"ASSAY_CONFIG: cannot read {path}: {exc}") from exc
        if not isinstance(file_data, dict):
            raise ConfigError(f"ASSAY_CONFIG: {path} must hold a JSON object")
        raw.update(file_data)
    for var, field in _ENV_FIELDS.items():
        if var in env:
            raw[field] = env[var]
    for var, field in _ENV_LIST_FIELDS.items():
        if var in env:
            raw[field] = [item.strip() for item in env[var].split(",") if item.strip()]
    if "ASSAY_REGISTRIES" in env:
        raw["registries"] = [msgspec.to_builtins(r) for r in parse_registries(env["ASSAY_REGISTRIES"])]
    if "ASSAY_CLUSTERS" in env:
        raw["clusters"] = _parse_json_list(env["ASSAY_CLUSTERS"], "ASSAY_CLUSTERS")
    aws = _aws_from_env(env)
    if aws:
        base = raw.get("aws")
        raw["aws"] = {**(base if isinstance(base, dict) else {}), **aws}
    updater = {field: env[var] for var, field in _ENV_UPDATER_FIELDS.items() if var in env}
    if updater:
        base = raw.get("updater")
        raw["updater"] = {**(base if isinstance(base, dict) else {}), **updater}
    for section, cls in _DERIVED_SECTIONS.items():
        fields = _section_from_env(env, section, cls)
        if fields:
            base = raw.get(section)
            raw[section] = {**(base if isinstance(base, dict) else {}), **fields}
    budget = _budget_from_env(env)
    if budget:
        base = raw.get("budget")
        raw["budget"] = {**(base if isinstance(base, dict) else {}), **budget}
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid setting: {exc}") from exc
    _check_budget(settings.budget)
    return settings


# sections whose variables are derived from their field names: ASSAY_<SECTION>_<FIELD>
_DERIVED_SECTIONS: dict[str, type[msgspec.Struct]] = {
    "harbor": HarborConfig,
    "webhooks": WebhooksConfig,
    "admission": AdmissionConfig,
}


def _section_from_env(env: Mapping[str, str], section: str, cls: type[msgspec.Struct]) -> dict[str, object]:
    """The fields of ``section`` set by ``ASSAY_<SECTION>_<FIELD>`` variables (lists: comma-separated)."""
    prefix = f"ASSAY_{section.upper()}_"
    out: dict[str, object] = {}
    for field in msgspec.structs.fields(cls):
        var = prefix + field.name.upper()
        if var in env:
            is_list = getattr(field.type, "__origin__", None) is list
            out[field.name] = [v.strip() for v in env[var].split(",") if v.strip()] if is_list else env[var]
    return out


def _budget_from_env(env: Mapping[str, str]) -> dict[str, object]:
    """The ``budget`` fields set by ``ASSAY_BUDGET_*``; a value of the wrong type names its variable."""
    out: dict[str, object] = {}
    for var, field in _ENV_BUDGET_FIELDS.items():
        if var in env:
            try:
                msgspec.convert({field: env[var]}, ScanBudget, strict=False)
            except msgspec.ValidationError as exc:
                raise ConfigError(f"{var}: {env[var]!r} is not a number") from exc
            out[field] = env[var]
    return out


def _check_budget(budget: ScanBudget) -> None:
    """Every budget is a positive number: a zero or negative limit would fail (or allow) everything."""
    for var, field in _ENV_BUDGET_FIELDS.items():
        value = getattr(budget, field)
        if value <= 0:
            raise ConfigError(f"{var}: must be a positive number, not {value}")


def child_environment(settings: Settings, config_file: Path) -> dict[str, str]:
    """The environment for a child service process: this one's, plus ``settings`` written to a file.

    ``assay up`` resolves settings once (embedded endpoints included) and passes them down
    this way, so the children read the same values the parent decided on.
    """
    # credentials inside: readable by this user only, whatever the umask or an older file's mode
    fd = os.open(config_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(fd, 0o600)
        out.write(msgspec.json.encode(settings))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _ENV_FIELDS
        and k not in _ENV_LIST_FIELDS
        and k not in _ENV_AWS_FIELDS
        and k not in _ENV_AWS_LIST_FIELDS
        and k != _ENV_AWS_OVERRIDES
        and k not in _ENV_BUDGET_FIELDS
        and k not in _ENV_UPDATER_FIELDS
        and k not in ("ASSAY_REGISTRIES", "ASSAY_CLUSTERS")
        and not k.startswith(tuple(f"ASSAY_{section.upper()}_" for section in _DERIVED_SECTIONS))
    }
    env["ASSAY_CONFIG"] = str(config_file)
    return env
