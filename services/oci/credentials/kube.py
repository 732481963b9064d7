"""The pods' own pull secrets, read from the cluster for one pull (issue 19).

Inventory records which ``imagePullSecrets`` the pods running a digest name, by reference only
(``pull_secret_refs``, migration 0013; ``services/inventory/pullrefs.py``). When an engine pulls
that digest, ``PullSecretResolver.resolve`` reads those references for the request's cluster
environments, then ``GET``s exactly those Secrets from each cluster's API server (the chart's RBAC
grants ``get`` on secrets and nothing else: no ``list``, no ``watch``) and parses them with
``pullsecrets.parse_pull_secret``. The answer, ``PodPullSecrets``, lives for that pull only:
``provider()`` is the first provider of that pull's credential chain, in the pods' order (the
kubelet's rule), and nothing is cached between pulls, so a rotated or deleted secret takes effect
at the next pull. A secret that cannot be read (deleted, forbidden, not a pull secret) is a
``problem`` naming it; the pull goes on with the engine's own credentials.

``kube_configuration`` is the one kubeconfig loader (inventory's watcher uses it too): a
kubeconfig's contents, else a kubeconfig file, else the in-cluster service account.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, Protocol

import aiohttp
import msgspec
import yaml
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.config.config_exception import ConfigException

from services.common.errors import AssayError, ConfigError, StoreError
from services.common.store._errors import translated
from services.oci.credentials.podsecrets import PodPullSecrets, ResolvedPullSecret
from services.oci.credentials.pullsecrets import parse_pull_secret

__all__ = [
    "ClusterTarget",
    "PodPullSecrets",
    "PullSecretResolver",
    "ResolvedPullSecret",
    "kube_configuration",
    "open_api",
]

log = logging.getLogger(__name__)

_REFS = """
SELECT environment, namespace, name, min(position) AS position FROM pull_secret_refs
WHERE digest = $1 AND environment = ANY($2::text[])
GROUP BY environment, namespace, name ORDER BY environment, position, namespace, name
"""
# an agent cluster's secrets are its own: its empty kubeconfig must not read this cluster's instead
_STORED = (
    "SELECT kubeconfig, context FROM environments WHERE kind = 'cluster' AND name = $1 AND mode = 'watch'"
)


class ClusterTarget(Protocol):
    """How to reach a cluster's API server: inventory's ``ClusterConfig`` has these fields."""

    @property
    def name(self) -> str: ...
    @property
    def kubeconfig(self) -> str: ...
    @property
    def context(self) -> str: ...


async def kube_configuration(
    *, kubeconfig_text: str = "", kubeconfig: str = "", context: str = "", what: str
) -> client.Configuration:
    """A client configuration from a kubeconfig's contents, else its file, else the in-cluster account;
    ``ConfigError`` naming ``what`` and the source when it cannot be loaded."""
    configuration = client.Configuration()
    source = "the kubeconfig stored with the environment"
    try:
        if kubeconfig_text:
            loaded = yaml.safe_load(kubeconfig_text)
            if not isinstance(loaded, dict):
                raise ConfigException("not a kubeconfig (a YAML mapping)")
            await config.load_kube_config_from_dict(
                loaded, context=context or None, client_configuration=configuration
            )
        elif kubeconfig:
            source = kubeconfig
            await config.load_kube_config(
                config_file=kubeconfig,
                context=context or None,
                client_configuration=configuration,
                persist_config=False,
            )
        else:
            source = "the in-cluster service account"
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except (ConfigException, OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{what}: cannot load {source}: {exc}") from exc
    return configuration


@contextlib.asynccontextmanager
async def open_api(configuration: client.Configuration) -> AsyncIterator[client.ApiClient]:
    """A kubernetes_asyncio ``ApiClient`` on ``configuration``, closed on exit."""
    async with client.ApiClient(configuration) as api:
        yield api


async def _read_secret(core: client.CoreV1Api, namespace: str, name: str) -> dict[str, Any]:
    """``GET /api/v1/namespaces/{namespace}/secrets/{name}``: the Secret; ``AssayError`` saying why not."""
    try:
        call: Awaitable[object] = core.read_namespaced_secret(name, namespace, _preload_content=False)
        resp = await call
        if not isinstance(resp, aiohttp.ClientResponse):
            raise AssayError(f"the client returned {type(resp).__name__}, not a response")
        async with resp:
            body = await resp.read()
            status = resp.status
    except (aiohttp.ClientError, TimeoutError, ApiException) as exc:
        raise AssayError(f"cannot reach the API server: {exc}") from exc
    if status == 404:
        raise AssayError("not found")
    if status != 200:
        raise AssayError(f"HTTP {status}: {body.decode('utf-8', 'replace')[:200]}")
    try:
        secret = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise AssayError(f"unreadable Secret: {exc}") from exc
    if not isinstance(secret, dict):
        raise AssayError("the answer is not a Secret")
    return secret


class PullSecretResolver:
    """Reads, for one pull, the pull secrets the pods running a digest name (see the module doc).

    ``pool``: PostgreSQL (the references, and the kubeconfigs of environments added at run time);
    ``clusters``: the configured clusters by name (``ASSAY_CLUSTERS``).
    """

    def __init__(self, pool: Any, clusters: Sequence[ClusterTarget] = ()) -> None:
        self._pool = pool
        self._clusters = {c.name: c for c in clusters}

    async def resolve(self, digest: str, environments: Sequence[str]) -> PodPullSecrets:
        """The pull secrets for ``digest`` in the cluster ``environments`` (``cluster:NAME``)."""
        clusters = [e for e in environments if e.startswith("cluster:")]
        if not clusters:
            return PodPullSecrets()
        try:
            with translated(f"read the pull secret references of {digest}"):
                rows = await self._pool.fetch(_REFS, digest, clusters)
        except StoreError as exc:
            return PodPullSecrets(problems=[str(exc)])
        by_cluster: dict[str, list[tuple[str, str]]] = {}
        for row in rows:
            by_cluster.setdefault(row["environment"], []).append((row["namespace"], row["name"]))
        secrets: list[ResolvedPullSecret] = []
        problems: list[str] = []
        for environment, refs in by_cluster.items():
            found = await self._read_cluster(environment, refs)
            secrets.extend(found.secrets)
            problems.extend(found.problems)
        for problem in problems:
            log.warning("pull secrets for %s: %s", digest, problem)
        return PodPullSecrets(secrets=secrets, problems=problems)

    async def _configuration(self, environment: str) -> client.Configuration:
        name = environment.removeprefix("cluster:")
        what = f"cluster {name}"
        configured = self._clusters.get(name)
        if configured is not None:
            return await kube_configuration(
                kubeconfig=configured.kubeconfig, context=configured.context, what=what
            )
        with translated(f"read the environment {environment}"):
            row = await self._pool.fetchrow(_STORED, name)
        if row is None:
            raise ConfigError(f"{what}: not a cluster the engines watch (configured, or added in watch mode)")
        return await kube_configuration(kubeconfig_text=row["kubeconfig"], context=row["context"], what=what)

    async def _read_cluster(self, environment: str, refs: Sequence[tuple[str, str]]) -> PodPullSecrets:
        names = ", ".join(f"{ns}/{n}" for ns, n in refs)
        try:
            configuration = await self._configuration(environment)
        except (ConfigError, StoreError) as exc:
            return PodPullSecrets(problems=[f"pull secrets {names} in {environment}: {exc}"])
        secrets: list[ResolvedPullSecret] = []
        problems: list[str] = []
        async with open_api(configuration) as api:
            core = client.CoreV1Api(api)
            for namespace, name in refs:
                ref = f"{namespace}/{name}"
                where = f"pull secret {ref} in {environment}"
                try:
                    secret = await _read_secret(core, namespace, name)
                    data = secret.get("data")
                    parsed = parse_pull_secret(
                        str(secret.get("type", "")), data if isinstance(data, dict) else {}, where
                    )
                except ConfigError as exc:
                    problems.append(str(exc))
                    continue
                except AssayError as exc:
                    problems.append(f"{where}: {exc}")
                    continue
                secrets.append(ResolvedPullSecret(ref=f"{environment}/{ref}", auths=parsed.auths))
        return PodPullSecrets(secrets=secrets, problems=problems)
