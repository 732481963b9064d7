"""Typed settings, read once at the entrypoint from ``ASSAY_*`` variables and an optional file.

This is the only module that reads ``os.environ``. Everything else receives a frozen
``Settings`` (or the part of it it needs) from its caller.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec

from services.common.errors import ConfigError


class RegistryConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A registry Assay may pull from (and, for inventory, crawl)."""

    host: str  # "127.0.0.1:5000", "ghcr.io", "registry-1.docker.io"
    insecure: bool = False  # plain HTTP; only ever for registries marked so
    username: str = ""
    password: str = ""
    crawl: bool = True  # inventory lists its catalog and tags
    repositories: list[str] = []  # crawl only these (empty: the whole catalog)


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything configurable, with its default."""

    data_dir: str = ""  # local state: vulnerability DB, embedded PostgreSQL, broker
    db_path: str = ""  # the advisory database file; default <data_dir>/vuln.db
    db_source: str = "https://osv-vulnerabilities.storage.googleapis.com"
    pg_dsn: str = ""  # empty: embedded PostgreSQL under data_dir (``assay up``)
    kafka_bootstrap: str = ""  # empty: embedded broker (``assay up``)
    registries: list[RegistryConfig] = []
    platform: str = "linux/amd64"
    max_file_bytes: int = 64 * 1024 * 1024  # per analysed file
    engine_concurrency: int = 2
    consumer_group_prefix: str = "assay"
    crawl_interval_s: float = 300.0
    otel_exporter: str = ""  # "", "console", "file:/path.jsonl", "otlp"
    service_name: str = "assay"

    @property
    def effective_data_dir(self) -> Path:
        return Path(self.data_dir) if self.data_dir else Path.home() / ".cache" / "assay"

    @property
    def effective_db_path(self) -> Path:
        return Path(self.db_path) if self.db_path else self.effective_data_dir / "vuln.db"

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
    "ASSAY_PLATFORM": "platform",
    "ASSAY_MAX_FILE_BYTES": "max_file_bytes",
    "ASSAY_ENGINE_CONCURRENCY": "engine_concurrency",
    "ASSAY_CONSUMER_GROUP_PREFIX": "consumer_group_prefix",
    "ASSAY_CRAWL_INTERVAL_S": "crawl_interval_s",
    "ASSAY_OTEL_EXPORTER": "otel_exporter",
}


def parse_registries(value: str) -> list[RegistryConfig]:
    """Parse ``ASSAY_REGISTRIES``: a JSON list of registry objects, or a comma list of hosts.

    In the comma form a host may carry flags: ``127.0.0.1:5000;insecure`` or
    ``host;user=NAME;password=SECRET``.
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
        fields: dict[str, object] = {"host": parts[0]}
        for flag in parts[1:]:
            key, _, val = flag.partition("=")
            if key == "insecure":
                fields["insecure"] = True
            elif key in ("user", "username"):
                fields["username"] = val
            elif key == "password":
                fields["password"] = val
            else:
                raise ConfigError(f"ASSAY_REGISTRIES: unknown flag {key!r} for {parts[0]}")
        out.append(msgspec.convert(fields, RegistryConfig))
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
    if "ASSAY_REGISTRIES" in env:
        raw["registries"] = [msgspec.to_builtins(r) for r in parse_registries(env["ASSAY_REGISTRIES"])]
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid setting: {exc}") from exc


def child_environment(settings: Settings, config_file: Path) -> dict[str, str]:
    """The environment for a child service process: this one's, plus ``settings`` written to a file.

    ``assay up`` resolves settings once (embedded endpoints included) and passes them down
    this way, so the children read the same values the parent decided on.
    """
    config_file.write_bytes(msgspec.json.encode(settings))
    env = {k: v for k, v in os.environ.items() if k not in _ENV_FIELDS and k != "ASSAY_REGISTRIES"}
    env["ASSAY_CONFIG"] = str(config_file)
    return env
