"""Docker's ``config.json``: ``auths`` entries, ``credHelpers`` and ``credsStore``.

As the docker CLI does: a host listed in ``credHelpers`` asks that helper; otherwise, with a
``credsStore``, the store's helper; an ``auths`` entry (``auth`` = base64 ``user:password``, or
``username``/``password``, or ``identitytoken``) answers when no helper is configured or the helper
has nothing for the host. Keys may be URLs (``https://index.docker.io/v1/``) or hosts.

The same shape comes from Kubernetes pull secrets (``pullsecrets.py``), without helpers.
The file is read again when it changes (a mounted Secret is updated in place).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from services.common.errors import ConfigError, RegistryError
from services.oci.credentials.base import Credentials, registry_host_of
from services.oci.credentials.helpers import HelperRunner

__all__ = [
    "AuthEntry",
    "ConfigFile",
    "DockerConfig",
    "DockerConfigCredentials",
    "docker_config_from",
    "parse_docker_config",
]

_MAX_FILE = 4 << 20
_DOCKER_HUB_SERVER = "https://index.docker.io/v1/"


class AuthEntry(msgspec.Struct, kw_only=True):
    """One ``auths`` entry as docker writes it."""

    auth: str = ""
    username: str = ""
    password: str = ""
    identitytoken: str = ""


class ConfigFile(msgspec.Struct, kw_only=True):
    """``config.json``'s fields that carry credentials (the rest is ignored)."""

    auths: dict[str, AuthEntry] = {}
    cred_helpers: dict[str, str] = msgspec.field(default_factory=dict, name="credHelpers")
    creds_store: str = msgspec.field(default="", name="credsStore")


@dataclass(frozen=True)
class DockerConfig:
    """A parsed ``config.json``: credentials and helper names by API host, and the default store."""

    auths: dict[str, Credentials]
    helpers: dict[str, str]
    store: str = ""


def _entry_credentials(entry: AuthEntry, where: str) -> Credentials | None:
    if entry.identitytoken:
        return Credentials(username=entry.username or "<token>", identity_token=entry.identitytoken)
    if entry.auth:
        try:
            decoded = base64.b64decode(entry.auth, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: 'auth' is not base64 of USER:PASSWORD") from exc
        user, sep, password = decoded.partition(":")
        if not sep:
            raise ConfigError(f"{where}: 'auth' is not base64 of USER:PASSWORD")
        return Credentials(user, password)
    if entry.username:
        return Credentials(entry.username, entry.password)
    return None  # an empty entry: docker writes these beside a credsStore


def docker_config_from(data: ConfigFile, source: str) -> DockerConfig:
    """The ``DockerConfig`` of a decoded file; bad entries raise ``ConfigError`` naming key and source."""
    auths: dict[str, Credentials] = {}
    for key, entry in data.auths.items():
        found = _entry_credentials(entry, f"{source}: auths[{key!r}]")
        if found is not None:
            auths.setdefault(registry_host_of(key), found)
    helpers = {registry_host_of(k): v for k, v in data.cred_helpers.items() if v}
    return DockerConfig(auths=auths, helpers=helpers, store=data.creds_store)


def parse_docker_config(raw: bytes, source: str) -> DockerConfig:
    """Parse ``config.json`` bytes; ``ConfigError`` naming ``source`` when they are not one."""
    try:
        data = msgspec.json.decode(raw, type=ConfigFile)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"{source}: not a docker config.json: {exc}") from exc
    return docker_config_from(data, source)


def _server_url(host: str) -> str:
    """What a helper is asked for: Docker Hub by its legacy index URL, others by host."""
    return _DOCKER_HUB_SERVER if host == registry_host_of("docker.io") else host


class DockerConfigCredentials:
    """A provider over a ``DockerConfig`` (``from_file`` re-reads the file when it changes).

    Helper answers are cached for ``cache_s`` per host: ``RegistryClient`` asks before requests.
    """

    def __init__(
        self,
        load: Callable[[], DockerConfig],
        *,
        helpers: HelperRunner | None = None,
        name: str = "docker config",
        cache_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._load = load
        self._helpers = helpers or HelperRunner()
        self._cache_s = cache_s
        self._clock = clock
        self._cached: dict[str, tuple[float, Credentials | None]] = {}

    @classmethod
    def from_file(cls, path: str, *, helpers: HelperRunner | None = None) -> DockerConfigCredentials:
        """A provider reading ``path`` (``ConfigError`` when unreadable), again whenever it changes."""
        state: dict[str, tuple[tuple[int, int], DockerConfig]] = {}

        def load() -> DockerConfig:
            file = Path(path)
            try:
                stat = file.stat()
                mtime = (stat.st_mtime_ns, stat.st_size)
                if path in state and state[path][0] == mtime:
                    return state[path][1]
                with file.open("rb") as f:
                    raw = f.read(_MAX_FILE + 1)
            except OSError as exc:
                raise ConfigError(f"docker config {path}: cannot read: {exc.strerror}") from exc
            if len(raw) > _MAX_FILE:
                raise ConfigError(f"docker config {path}: larger than {_MAX_FILE} bytes")
            state[path] = (mtime, parse_docker_config(raw, f"docker config {path}"))
            return state[path][1]

        load()  # a broken file is a start-up error, not a surprise at the first pull
        return cls(load, helpers=helpers, name=f"docker config {path}")

    async def credentials(self, host: str) -> Credentials | None:
        """The helper's answer for ``host`` when one is configured for it, else its ``auths`` entry."""
        try:
            config = self._load()
        except ConfigError as exc:
            raise RegistryError(str(exc)) from exc
        helper = config.helpers.get(host) or config.store
        if helper:
            cached = self._cached.get(host)
            if cached is not None and cached[0] > self._clock():
                found = cached[1]
            else:
                found = await self._helpers.get(helper, _server_url(host))
                self._cached[host] = (self._clock() + self._cache_s, found)
            if found is not None:
                return found
        return config.auths.get(host)
