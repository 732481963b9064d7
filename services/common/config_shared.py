"""The settings sections every process shares: local data paths, PostgreSQL, the object store,
telemetry, registries and AWS.

Each section is a frozen Struct; its environment names are derived from its place in the
composed ``Settings`` (``services/settings.py``): ``ASSAY_<SECTION>_<FIELD>``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.common.errors import ConfigError
from services.common.hostport import OptionalHostPort


class DataSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Local state (``ASSAY_DATA_DIR``): advisory database, embedded PostgreSQL and broker, caches."""

    dir: str = ""  # "" = ~/.cache/assay


class DbSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The advisory database (``services/vulndb``): ``ASSAY_DB_PATH``, ``ASSAY_DB_SOURCE``."""

    path: str = ""  # the database file; "" = <data.dir>/vuln.db
    source: str = "https://osv-vulnerabilities.storage.googleapis.com"
    # NVD's CVE API key for ``--cvss nvd+…`` mirrors (50 requests per 30 s instead of 5); a
    # credential: sent only to NVD in the ``apiKey`` header, never logged
    nvd_api_key: str = ""


class PgSettings(msgspec.Struct, frozen=True, kw_only=True):
    """PostgreSQL (``services/common/store``): ``ASSAY_PG_DSN``."""

    dsn: str = ""  # "" = embedded PostgreSQL under data.dir (``assay up``)


class ObjectStoreSettings(msgspec.Struct, frozen=True, kw_only=True):
    """A local-directory object store (``ASSAY_OBJECT_STORE_DIR``), used when ``aws.s3_bucket`` is empty."""

    dir: str = ""


class OtelSettings(msgspec.Struct, frozen=True, kw_only=True):
    """OpenTelemetry (``services/common/telemetry.py``): ``ASSAY_OTEL_EXPORTER``."""

    exporter: str = ""  # "", "console", "file:/path.jsonl", "otlp"


class MetricsConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Prometheus metrics (services/common/metrics.py): ``ASSAY_METRICS_<FIELD>``."""

    listen: OptionalHostPort = ""  # HOST:PORT of this service's /metrics (its own port, no auth); "" = off


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
    # node daemons (host usually a pattern, ``*:5050``): the base64 Ed25519 private key the engine signs
    # short-lived pull tokens with, each bound to one node address and one repository
    node_key: str = ""

    @classmethod
    def from_env_list(cls, value: str, setting: str) -> list[RegistryConfig]:
        """``ASSAY_REGISTRIES`` may also be a comma list of hosts with flags (``parse_registries``)."""
        return parse_registries(value, setting)


class AwsConfig(msgspec.Struct, frozen=True, kw_only=True):
    """AWS sources and stores (``services/inventory/aws``, ``common/objectstore``): ``ASSAY_AWS_*``."""

    region: str = "us-east-1"
    endpoint_url: str = ""  # e.g. a moto server; empty: AWS itself
    access_key_id: str = ""  # empty: botocore's default chain (env, profile, IRSA, instance role)
    secret_access_key: str = ""
    ecr: bool = False  # inventory crawls ECR (describe_repositories/describe_images)
    ecr_registry_ids: list[str] = []  # account ids whose registries are crawled (empty: the caller's)
    ecr_repositories: list[str] = []  # crawl only these repositories (empty: all)
    ecr_token_margin_s: Annotated[float, msgspec.Meta(ge=0)] = 300.0  # refresh an ECR token this long before
    ecs: bool = False  # inventory polls ECS tasks (EC2 and Fargate)
    ecs_clusters: list[str] = []  # names or ARNs (empty: every cluster list_clusters returns)
    s3_bucket: str = ""  # the shared object store: claim-checked payloads, layer cache
    s3_prefix: str = "assay/"
    # registry host pattern (fnmatch) -> host that serves its data plane, e.g. a mirror or a test registry
    registry_host_overrides: dict[str, str] = {}


def parse_registries(value: str, setting: str = "ASSAY_REGISTRIES") -> list[RegistryConfig]:
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
        except msgspec.DecodeError as exc:
            raise ConfigError(f"{setting}: {exc}") from exc
    return [_registry_item(item, setting) for item in value.split(",") if item.strip(" ;")]


def _registry_item(item: str, setting: str) -> RegistryConfig:
    """One ``host;flag;key=value`` item of the comma form."""
    parts = [p.strip() for p in item.split(";") if p.strip()]
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
            raise ConfigError(f"{setting}: unknown flag {key!r} for {parts[0]}")
    return msgspec.convert(fields, RegistryConfig)
