"""The seam to a Kubernetes API server: list pods, watch pods, read a pod's owner.

``PodSource`` is what the watcher needs; ``KubeSource`` implements it with kubernetes_asyncio
(kubeconfig or in-cluster service account, TLS, token refresh) and hands back objects exactly as the
API serves them: dicts decoded from the JSON, one watch event per line of the chunked stream. It is
inventory's only module that imports kubernetes_asyncio (the kubeconfig loader is shared with the
engines' pull-secret reader, ``services/oci/credentials/kube.py``); its errors become ``KubeError``
(``WatchExpired`` for 410 Gone) here.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any, Protocol

import aiohttp
import msgspec
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from services.common.errors import AssayError
from services.inventory.settings import ClusterConfig
from services.oci.credentials.kube import kube_configuration, open_api

__all__ = ["KubeError", "KubeSource", "PodSource", "WatchExpired", "open_source"]

Obj = dict[str, Any]


class KubeError(AssayError):
    """The API server could not be reached, refused a request, or sent something unreadable."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class WatchExpired(KubeError):
    """410 Gone: the resourceVersion (or list continue token) is older than the server keeps."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=410)


class PodSource(Protocol):
    """What the watcher asks of a cluster. ``namespace`` "" means all namespaces."""

    async def list_pods(self, namespace: str, *, limit: int, continue_token: str) -> Obj:
        """One page of a PodList (``metadata.resourceVersion``, ``metadata.continue``, ``items``)."""
        ...

    def watch_pods(self, namespace: str, *, resource_version: str, timeout_s: int) -> AsyncIterator[Obj]:
        """Watch events (``type``, ``object``) after ``resource_version``, bookmarks allowed."""
        ...

    async def get_owner(self, kind: str, namespace: str, name: str) -> Obj | None:
        """A ReplicaSet or Job by name; None when it no longer exists. Only with ``owner_lookups``."""
        ...


def _status_error(status: int, body: bytes, what: str) -> KubeError:
    """A KubeError from an HTTP error and its ``Status`` body (``message``, ``reason``)."""
    message = body.decode("utf-8", "replace")[:300]
    with contextlib.suppress(msgspec.DecodeError):
        data = msgspec.json.decode(body)
        if isinstance(data, dict) and data.get("message"):
            message = f"{data.get('reason', '')}: {data['message']}"
    if status == 410:
        return WatchExpired(f"{what}: {message}")
    return KubeError(f"{what}: HTTP {status}: {message}", status=status)


class KubeSource:
    """``PodSource`` over a kubernetes_asyncio ``ApiClient``."""

    def __init__(self, api: client.ApiClient) -> None:
        self._core = client.CoreV1Api(api)
        self._apps = client.AppsV1Api(api)
        self._batch = client.BatchV1Api(api)

    async def list_pods(self, namespace: str, *, limit: int, continue_token: str) -> Obj:
        what = f"list pods in {namespace or 'all namespaces'}"
        kwargs: dict[str, Any] = {"limit": limit, "_preload_content": False}
        if continue_token:
            kwargs["_continue"] = continue_token
        if namespace:
            call = self._core.list_namespaced_pod(namespace, **kwargs)
        else:
            call = self._core.list_pod_for_all_namespaces(**kwargs)
        body = await _read(await _response(call, what), what)
        try:
            page = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise KubeError(f"{what}: unreadable PodList: {exc}") from exc
        if not isinstance(page, dict):
            raise KubeError(f"{what}: the answer is not a PodList")
        return page

    async def watch_pods(
        self, namespace: str, *, resource_version: str, timeout_s: int
    ) -> AsyncIterator[Obj]:
        what = f"watch pods in {namespace or 'all namespaces'} from {resource_version}"
        kwargs: dict[str, Any] = {
            "watch": True,
            "resource_version": resource_version,
            "allow_watch_bookmarks": True,
            "timeout_seconds": timeout_s,
            "_preload_content": False,
            # no total limit (the stream is long-lived), but a silent connection is a dead one
            "_request_timeout": aiohttp.ClientTimeout(sock_connect=30, sock_read=timeout_s + 60),
        }
        if namespace:
            call = self._core.list_namespaced_pod(namespace, **kwargs)
        else:
            call = self._core.list_pod_for_all_namespaces(**kwargs)
        resp = await _response(call, what)
        async with resp:
            if resp.status != 200:
                raise _status_error(resp.status, await resp.read(), what)
            buffer = b""
            try:
                # one JSON object per line; lines can be larger than aiohttp's readline limit
                async for chunk in resp.content.iter_any():
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.strip():
                            yield _decode_event(line, what)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise KubeError(f"{what}: connection lost: {exc}") from exc
            if buffer.strip():
                yield _decode_event(buffer, what)

    async def get_owner(self, kind: str, namespace: str, name: str) -> Obj | None:
        what = f"get {kind} {namespace}/{name}"
        call: Awaitable[object]
        if kind == "ReplicaSet":
            call = self._apps.read_namespaced_replica_set(name, namespace, _preload_content=False)
        elif kind == "Job":
            call = self._batch.read_namespaced_job(name, namespace, _preload_content=False)
        else:
            raise KubeError(f"{what}: not a kind inventory resolves")
        resp = await _response(call, what)
        if resp.status == 404:
            resp.release()
            return None
        body = await _read(resp, what)
        try:
            obj = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise KubeError(f"{what}: unreadable answer: {exc}") from exc
        return obj if isinstance(obj, dict) else None


async def _response(call: Awaitable[object], what: str) -> aiohttp.ClientResponse:
    """Send a request made with ``_preload_content=False``: the raw response, unread."""
    try:
        resp = await call
    except (aiohttp.ClientError, TimeoutError, ApiException) as exc:
        raise KubeError(f"{what}: {exc}") from exc
    if not isinstance(resp, aiohttp.ClientResponse):
        raise KubeError(f"{what}: the client returned {type(resp).__name__}, not a response")
    return resp


async def _read(resp: aiohttp.ClientResponse, what: str) -> bytes:
    """The whole body of a 200 answer; any other status becomes a KubeError from its Status."""
    try:
        async with resp:
            body = await resp.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise KubeError(f"{what}: {exc}") from exc
    if resp.status != 200:
        raise _status_error(resp.status, body, what)
    return body


def _decode_event(line: bytes, what: str) -> Obj:
    try:
        event = msgspec.json.decode(line)
    except msgspec.DecodeError as exc:
        raise KubeError(f"{what}: unreadable watch event: {exc}") from exc
    if not isinstance(event, dict):
        raise KubeError(f"{what}: a watch event is not an object")
    return event


@contextlib.asynccontextmanager
async def open_source(cluster: ClusterConfig, kubeconfig_text: str = "") -> AsyncIterator[KubeSource]:
    """Connect to a cluster from a kubeconfig: ``kubeconfig_text`` (its contents, as stored by
    ``assay environments add``), else the file ``cluster.kubeconfig``, else the in-cluster account."""
    configuration = await kube_configuration(
        kubeconfig_text=kubeconfig_text,
        kubeconfig=cluster.kubeconfig,
        context=cluster.context,
        what=f"clusters[{cluster.name}]",
    )
    async with open_api(configuration) as api:
        yield KubeSource(api)
