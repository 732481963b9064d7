"""Typed settings, read once at the entrypoint from ``ASSAY_*`` variables and an optional file.

This is the only module that reads ``os.environ``. The settings are a tree of frozen Structs:
sections declared beside their owners (``services/common/config_shared.py``,
``config_kafka.py``, ``services/<service>/settings.py``, one per content analyzer), composed
into one ``Settings`` by ``services/settings.py``. Every variable's name is derived from its
field path, ``ASSAY_<SECTION>_<FIELD>`` (a top-level field: ``ASSAY_<FIELD>``); nothing keeps a
table of names. Values are converted and validated at load, and an error names the variable.

Variable forms: scalars as text (``true``/``false``, numbers); ``list[str]`` comma-separated;
lists of objects and ``dict`` fields as JSON (a list whose item type has ``from_env_list``
reads its own form, e.g. ``ASSAY_REGISTRIES``).
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from services.common.config_kafka import KafkaSecurity, KafkaSettings, kafka_security
from services.common.config_shared import (
    AwsConfig,
    DataSettings,
    DbSettings,
    MetricsConfig,
    ObjectStoreSettings,
    OtelSettings,
    PgSettings,
    RegistryConfig,
    parse_registries,
)
from services.common.errors import ConfigError
from services.common.hostport import HOST_PORT_PATTERN

__all__ = [
    "AwsConfig",
    "DataSettings",
    "DbSettings",
    "KafkaSecurity",
    "KafkaSettings",
    "MetricsConfig",
    "ObjectStoreSettings",
    "OtelSettings",
    "PgSettings",
    "RegistryConfig",
    "check_positive",
    "child_environment",
    "env_variables",
    "kafka_security",
    "load",
    "parse_registries",
]

S = TypeVar("S", bound=msgspec.Struct)
PREFIX = "ASSAY"


class EnvVar(msgspec.Struct, frozen=True):
    """One variable: its name, the field path it sets and the field's type."""

    name: str
    path: tuple[str, ...]
    type: Any


def _plain(tp: Any) -> Any:
    """The type without ``Annotated`` constraints."""
    return typing.get_args(tp)[0] if typing.get_origin(tp) is typing.Annotated else tp


def _is_section(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def env_variables(
    cls: type[msgspec.Struct], prefix: str = PREFIX, path: tuple[str, ...] = ()
) -> Iterator[EnvVar]:
    """Every variable of the settings tree ``cls``: sections recurse, every other field is one variable."""
    for field in msgspec.structs.fields(cls):
        name = f"{prefix}_{field.name.upper()}"
        tp = _plain(field.type)
        if _is_section(tp):
            yield from env_variables(tp, name, (*path, field.name))
        else:
            yield EnvVar(name, (*path, field.name), tp)


def _env_value(var: EnvVar, text: str) -> object:
    """The raw value of one variable, in the shape ``msgspec.convert`` expects for its field."""
    origin = typing.get_origin(var.type)
    if origin is list:
        (item,) = typing.get_args(var.type)
        item = _plain(item)
        if _is_section(item):
            from_env = getattr(item, "from_env_list", None)
            if from_env is not None:
                return [msgspec.to_builtins(x) for x in from_env(text, var.name)]
            return _json(text, var.name, list, "a JSON list")
        return [part.strip() for part in text.split(",") if part.strip()]
    if origin is dict:
        return _json(text, var.name, dict, 'a JSON object {"key": "value"}') if text.strip() else {}
    return text


def _json(text: str, setting: str, kind: type, shape: str) -> object:
    """A variable holding JSON of one ``kind`` (empty text is empty); errors name the variable."""
    if not text.strip():
        return kind()
    try:
        data = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{setting}: not JSON: {exc}") from exc
    if not isinstance(data, kind):
        raise ConfigError(f"{setting}: must be {shape}")
    return data


def _put(raw: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    """Set ``value`` at ``path`` in the nested dict ``raw``, keeping the values beside it."""
    node = raw
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[path[-1]] = value


def _merge(raw: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Merge nested ``changes`` into ``raw`` (sections merge, values replace)."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            _merge(raw[key], value)
        else:
            raw[key] = value


def _read_file(path: str) -> dict[str, Any]:
    try:
        data = msgspec.json.decode(Path(path).read_bytes())
    except (OSError, msgspec.DecodeError) as exc:
        raise ConfigError(f"{PREFIX}_CONFIG: cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{PREFIX}_CONFIG: {path} must hold a JSON object")
    return data


_HOST_PORT = "expected HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080)"
_SECRET = re.compile(r"PASSWORD|TOKEN|SECRET|KEY|DSN|REGISTRIES|CLUSTERS")
_AT = re.compile(r"`\$((?:\.\w+)*)")


def _named(exc: msgspec.ValidationError, env: Mapping[str, str]) -> ConfigError:
    """msgspec's error with its ``$.section.field`` path turned into the variable's name (and value)."""
    message = str(exc)
    found = _AT.search(message)
    if not found or not found.group(1):
        return ConfigError(f"invalid setting: {message}")
    fields = found.group(1).strip(".").split(".")
    var = "_".join([PREFIX, *(f.upper() for f in fields)])
    for pattern in (HOST_PORT_PATTERN, f"^$|{HOST_PORT_PATTERN}"):  # the regex says less than this
        message = message.replace(f"Expected `str` matching regex {pattern!r}", _HOST_PORT)
    value = env.get(var, "")
    shown = f" {value!r} is invalid:" if value and len(value) <= 64 and not _SECRET.search(var) else ""
    return ConfigError(f"{var}:{shown} {message.split(' - at ')[0]}")


def load(
    cls: type[S],
    environ: Mapping[str, str] | None = None,
    config_file: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    renamed: Mapping[str, str] | None = None,
) -> S:
    """Build the settings tree ``cls`` from an optional JSON file, ``ASSAY_*`` variables and overrides.

    Precedence: overrides (a nested mapping) > environment > file > defaults. Errors name the variable;
    a variable in ``renamed`` (old name -> new name) is refused with its new name.
    """
    env = os.environ if environ is None else environ
    for old, new in (renamed or {}).items():
        if old in env:
            raise ConfigError(f"{old} is now {new}")
    path = config_file or env.get(f"{PREFIX}_CONFIG", "")
    raw: dict[str, Any] = _read_file(path) if path else {}
    for var in env_variables(cls):
        if var.name in env:
            _put(raw, var.path, _env_value(var, env[var.name]))
    _merge(raw, overrides or {})
    try:
        return msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise _named(exc, env) from exc


def check_positive(section: msgspec.Struct, prefix: str) -> None:
    """Every numeric field of ``section`` is positive: a zero or negative limit fails or allows everything."""
    for field in msgspec.structs.fields(section):
        value = getattr(section, field.name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
            raise ConfigError(f"{prefix}_{field.name.upper()}: must be a positive number, not {value}")


def child_environment(settings: msgspec.Struct, config_file: Path) -> dict[str, str]:
    """The environment for a child service process: this one's, plus ``settings`` written to a file.

    ``assay up`` resolves settings once (embedded endpoints included) and passes them down
    this way, so the children read the same values the parent decided on.
    """
    # credentials inside: readable by this user only, whatever the umask or an older file's mode
    fd = os.open(config_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(fd, 0o600)
        out.write(msgspec.json.encode(settings))
    names = {var.name for var in env_variables(type(settings))}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env[f"{PREFIX}_CONFIG"] = str(config_file)
    return env
