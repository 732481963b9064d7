"""A fake Kubernetes API server that speaks the real wire format, for the cluster inventory tests.

No real API server can run on the test machines (no kubelet, no etcd, no container runtime), so this
serves the few endpoints the inventory uses, shaped as the Kubernetes API documents them
(https://kubernetes.io/docs/reference/using-api/api-concepts/):

* ``GET /api/v1/pods`` and ``/api/v1/namespaces/{ns}/pods``: a ``PodList`` with
  ``metadata.resourceVersion``; ``limit`` and ``continue`` page through one consistent snapshot, and
  a continue token older than the compacted history is answered ``410 Gone`` with a ``Status``.
* the same with ``watch=true&resourceVersion=N&allowWatchBookmarks=true``: a chunked stream of one
  JSON object per line, ``{"type": "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR", "object": ...}``;
  every change after ``N`` is replayed, then live changes follow; ``timeoutSeconds`` ends the stream.
  A version older than the compacted history gets an ``ERROR`` event whose object is a ``Status``
  with ``code: 410, reason: "Expired"`` (or, when asked, an HTTP 410 with that ``Status``).
* ``GET /apis/apps/v1/namespaces/{ns}/replicasets/{name}`` and ``/apis/batch/v1/namespaces/{ns}/jobs/{name}``.
* ``GET /api/v1/namespaces/{ns}/secrets/{name}``: a ``Secret`` (``type``, ``data`` values base64) or a
  404 ``Status``; there is no secrets list or watch, as the engines' RBAC (``get`` only) allows none.

Every request needs ``Authorization: Bearer <token>`` (401 ``Status`` otherwise), as a kubeconfig user
token would be sent. Tests drive it with ``add_pod``/``update_pod``/``delete_pod``, ``compact``,
``expire_watches`` (forced 410), ``drop_watches`` (connection reset), ``bookmark`` and ``hold``.
It runs in the test's event loop on 127.0.0.1 over plain HTTP; ``write_kubeconfig`` points a
kubeconfig at it.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = ["FakeKube", "fake_kube", "status_object"]

Obj = dict[str, Any]


def status_object(code: int, reason: str, message: str) -> Obj:
    """A ``Status`` (``kind: Status, apiVersion: v1``) as the API server returns for a failure."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


@dataclass(eq=False)
class _Watch:
    namespace: str
    request: web.Request
    queue: asyncio.Queue[Obj | None] = field(default_factory=asyncio.Queue)


class FakeKube:
    """The fake API server's state and controls; ``url`` once started."""

    def __init__(self, *, token: str = "fake-kube-token") -> None:
        self.token = token
        self.url = ""
        self.requests: list[str] = []  # "GET /api/v1/pods?..." in arrival order
        self.watch_410_as_http = False  # answer a too-old watch with HTTP 410 instead of an ERROR event
        self._pods: dict[tuple[str, str], Obj] = {}
        self._owners: dict[tuple[str, str, str], Obj] = {}
        self._secrets: dict[tuple[str, str], Obj] = {}
        self._rv = 1000
        self._history: list[tuple[int, str, Obj]] = []  # (resourceVersion, type, object)
        self._oldest = 0  # watches from below this version get 410 (etcd compaction)
        self._snapshots: dict[str, tuple[int, list[Obj]]] = {}
        self._watches: set[_Watch] = set()
        self._held = False
        self._held_at = 0  # while held: changes after this version are not sent to watches
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/api/v1/pods", self._pods_handler)
        app.router.add_get("/api/v1/namespaces/{namespace}/pods", self._pods_handler)
        app.router.add_get("/apis/apps/v1/namespaces/{namespace}/replicasets/{name}", self._owner_handler)
        app.router.add_get("/apis/batch/v1/namespaces/{namespace}/jobs/{name}", self._owner_handler)
        app.router.add_get("/api/v1/namespaces/{namespace}/secrets/{name}", self._secret_handler)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        for watch in list(self._watches):
            watch.queue.put_nowait(None)
        if self._runner is not None:
            await self._runner.cleanup()

    def write_kubeconfig(self, path: Path, *, cluster: str = "fake") -> Path:
        """A kubeconfig (JSON is valid YAML) whose current context is this server with its token."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster, "cluster": {"server": self.url}}],
            "users": [{"name": "inventory", "user": {"token": self.token}}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": "inventory"}}],
            "current-context": cluster,
        }
        path.write_text(json.dumps(config, indent=2))
        return path

    # -- what the tests change -----------------------------------------------------------

    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def add_owner(self, obj: Obj) -> None:
        """Store a ReplicaSet or Job (``kind``, ``metadata.namespace``, ``metadata.name``)."""
        meta = obj["metadata"]
        self._owners[(obj["kind"], meta["namespace"], meta["name"])] = copy.deepcopy(obj)

    def add_secret(self, namespace: str, name: str, secret_type: str, data: dict[str, bytes]) -> None:
        """Store a Secret; ``data`` values are raw bytes, served base64-encoded as the API does."""
        encoded = {k: base64.b64encode(v).decode() for k, v in data.items()}
        meta = {
            "name": name,
            "namespace": namespace,
            "uid": str(uuid.uuid4()),
            "resourceVersion": self.bump(),
        }
        obj = {"kind": "Secret", "apiVersion": "v1", "metadata": meta, "type": secret_type, "data": encoded}
        self._secrets[(namespace, name)] = obj

    def delete_secret(self, namespace: str, name: str) -> None:
        self._secrets.pop((namespace, name), None)

    def add_pod(self, pod: Obj) -> str:
        """Create a pod (uid, resourceVersion assigned); returns its resourceVersion."""
        pod = copy.deepcopy(pod)
        meta = pod.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid4()))
        key = (meta["namespace"], meta["name"])
        assert key not in self._pods, f"pod {key} exists"
        return self._change("ADDED", key, pod)

    def update_pod(self, pod: Obj) -> str:
        """Replace an existing pod (same namespace/name; uid kept)."""
        pod = copy.deepcopy(pod)
        meta = pod["metadata"]
        key = (meta["namespace"], meta["name"])
        meta["uid"] = self._pods[key]["metadata"]["uid"]
        return self._change("MODIFIED", key, pod)

    def delete_pod(self, namespace: str, name: str) -> str:
        """Delete a pod; the DELETED event carries its last state at the new version."""
        pod = copy.deepcopy(self._pods[(namespace, name)])
        return self._change("DELETED", (namespace, name), pod)

    def hold(self, held: bool = True) -> None:
        """While held, changes are recorded but no watch sends them, not even one opened meanwhile
        (a stalled watch cache); a list still shows them."""
        self._held = held
        self._held_at = self._rv if held else 0

    def compact(self) -> None:
        """Forget the history up to now, as etcd compaction does: older versions become 410."""
        self._oldest = self._rv
        self._history.clear()
        self._snapshots.clear()

    def expire_watches(self) -> None:
        """Compact, then end every open watch with an ``ERROR`` event carrying a 410 ``Status``."""
        self.compact()
        for watch in list(self._watches):
            watch.queue.put_nowait({"type": "ERROR", "object": self._too_old(self._oldest - 1)})
            watch.queue.put_nowait(None)

    def drop_watches(self) -> None:
        """Reset every open watch connection without ending the chunked body (a network failure)."""
        for watch in list(self._watches):
            if watch.request.transport is not None:
                watch.request.transport.abort()
            watch.queue.put_nowait(None)

    def bookmark(self) -> None:
        """Send a BOOKMARK at the current version to every open watch (the server's periodic one)."""
        bookmark = {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": str(self._rv), "creationTimestamp": None},
            "spec": {"containers": None},
            "status": {},
        }
        for watch in list(self._watches):
            watch.queue.put_nowait({"type": "BOOKMARK", "object": bookmark})

    def bump(self) -> str:
        """Advance the version with a change to some other resource (no pod event)."""
        self._rv += 1
        return str(self._rv)

    @property
    def open_watches(self) -> int:
        return len(self._watches)

    # -- internals ---------------------------------------------------------------------

    def _change(self, kind: str, key: tuple[str, str], pod: Obj) -> str:
        self._rv += 1
        pod["metadata"]["resourceVersion"] = str(self._rv)
        if kind == "DELETED":
            del self._pods[key]
        else:
            self._pods[key] = pod
        self._history.append((self._rv, kind, copy.deepcopy(pod)))
        if not self._held:
            for watch in self._watches:
                if not watch.namespace or watch.namespace == key[0]:
                    watch.queue.put_nowait({"type": kind, "object": copy.deepcopy(pod)})
        return str(self._rv)

    def _too_old(self, version: int) -> Obj:
        return status_object(410, "Expired", f"too old resource version: {version} ({self._oldest})")

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path_qs}")
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response(status_object(401, "Unauthorized", "Unauthorized"), status=401)
        response: web.StreamResponse = await handler(request)
        return response

    async def _owner_handler(self, request: web.Request) -> web.StreamResponse:
        kind = "ReplicaSet" if "/replicasets/" in request.path else "Job"
        ns, name = request.match_info["namespace"], request.match_info["name"]
        obj = self._owners.get((kind, ns, name))
        if obj is None:
            plural = "replicasets.apps" if kind == "ReplicaSet" else "jobs.batch"
            status = status_object(404, "NotFound", f'{plural} "{name}" not found')
            status["details"] = {"name": name, "group": plural.split(".")[1], "kind": plural.split(".")[0]}
            return web.json_response(status, status=404)
        return web.json_response(obj)

    async def _secret_handler(self, request: web.Request) -> web.StreamResponse:
        ns, name = request.match_info["namespace"], request.match_info["name"]
        obj = self._secrets.get((ns, name))
        if obj is None:
            status = status_object(404, "NotFound", f'secrets "{name}" not found')
            status["details"] = {"name": name, "kind": "secrets"}
            return web.json_response(status, status=404)
        return web.json_response(obj)

    async def _pods_handler(self, request: web.Request) -> web.StreamResponse:
        namespace = request.match_info.get("namespace", "")
        if _parse_bool(request.query.get("watch", "")):
            return await self._watch(request, namespace)
        return self._list(request, namespace)

    def _list(self, request: web.Request, namespace: str) -> web.StreamResponse:
        limit = int(request.query.get("limit", "0") or 0)
        token = request.query.get("continue", "")
        if token:
            try:
                snap_id, start = json.loads(base64.b64decode(token))
                version, items = self._snapshots[snap_id]
            except (ValueError, KeyError):
                message = (
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter."
                )
                return web.json_response(status_object(410, "Expired", message), status=410)
        else:
            items = [
                copy.deepcopy(p)
                for (ns, _), p in sorted(self._pods.items())
                if not namespace or ns == namespace
            ]
            version, start, snap_id = self._rv, 0, str(uuid.uuid4())
            self._snapshots[snap_id] = (version, items)
        end = start + limit if limit else len(items)
        meta: Obj = {"resourceVersion": str(version)}
        if end < len(items):
            meta["continue"] = base64.b64encode(json.dumps([snap_id, end]).encode()).decode()
            meta["remainingItemCount"] = len(items) - end
        body = {"kind": "PodList", "apiVersion": "v1", "metadata": meta, "items": items[start:end]}
        return web.json_response(body)

    async def _watch(self, request: web.Request, namespace: str) -> web.StreamResponse:
        since = int(request.query.get("resourceVersion", "0") or 0)
        timeout_s = float(request.query.get("timeoutSeconds", "0") or 0) or None
        if since and since < self._oldest and self.watch_410_as_http:
            return web.json_response(self._too_old(since), status=410)
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        watch = _Watch(namespace=namespace, request=request)
        if since and since < self._oldest:
            await _send(response, {"type": "ERROR", "object": self._too_old(since)})
            return response
        for version, kind, obj in self._history:
            if self._held and version > self._held_at:
                break
            if version > since and (not namespace or obj["metadata"]["namespace"] == namespace):
                watch.queue.put_nowait({"type": kind, "object": copy.deepcopy(obj)})
        self._watches.add(watch)
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    event = await watch.queue.get()
                    if event is None:
                        break
                    await _send(response, event)
        except (TimeoutError, ConnectionResetError):
            pass
        finally:
            self._watches.discard(watch)
        return response


def _parse_bool(value: str) -> bool:
    """Go's strconv.ParseBool, which the API server uses: kubernetes_asyncio sends ``True``."""
    return value in ("1", "t", "T", "TRUE", "true", "True")


async def _send(response: web.StreamResponse, event: Obj) -> None:
    await response.write(json.dumps(event, separators=(",", ":")).encode() + b"\n")


@asynccontextmanager
async def fake_kube() -> AsyncIterator[FakeKube]:
    """A started fake API server, stopped on exit."""
    server = FakeKube()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
