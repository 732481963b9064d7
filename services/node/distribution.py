"""The read-only subset of the OCI distribution API, served from containerd's content store.

Routes (``name`` is a repository as the daemon reports it, e.g. ``docker.io/fixture/debian``):

- ``GET /v2/``: the API version check;
- ``GET|HEAD /v2/<name>/manifests/<reference>``: a tag (resolved through containerd's image
  record ``<name>:<tag>``) or a digest (an index, manifest or child manifest in the store);
- ``GET|HEAD /v2/<name>/blobs/<digest>``: configs and layers, streamed in containerd's chunks
  (constant memory, whatever the layer size);
- ``GET /healthz``: no authentication, for probes.

Every ``/v2`` request is authorised by ``NodeAuth`` (``auth.py``): an engine-signed token for this
node and the repository in the URL (engines: ``RegistryConfig(host="*:5050", insecure=True,
node_key=<private key>)``), or the legacy shared token. A refused request is a 401 with the
challenge that says which. Tokens are never logged.

Only repositories of images on the node are served, and under a repository only the manifests
and blobs its own images name (``content.py``): a digest of another repository's image is
``BLOB_UNKNOWN`` here, whatever the token.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Final

import msgspec
from aiohttp import web

from services.node.auth import NodeAuth
from services.node.containerd import ContainerdClient, ContainerdError
from services.node.content import MAX_MANIFEST, RepositoryContent
from services.oci.node_names import origin_of

__all__ = ["CLIENT", "make_distribution_app"]

log = logging.getLogger(__name__)

CLIENT: Final = web.AppKey("containerd", ContainerdClient)
_AUTH: Final = web.AppKey("auth", NodeAuth)
_CONTENT: Final = web.AppKey("content", RepositoryContent)
_API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}
_DIGEST_RE = re.compile(r"^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
_PATH_RE = re.compile(r"^(?P<name>[a-z0-9][a-z0-9._/:_-]*)/(?P<kind>manifests|blobs)/(?P<ref>[^/]+)$")
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = msgspec.json.encode({"errors": [{"code": code, "message": message}]})
    return web.Response(
        body=body,
        status=status,
        content_type="application/json",
        headers={**_API_VERSION, **(headers or {})},
    )


@web.middleware
async def _auth(request: web.Request, handler: _Handler) -> web.StreamResponse:
    if request.path == "/healthz":
        return await handler(request)
    match = _PATH_RE.match(request.path.removeprefix("/v2/"))
    repository = match["name"] if match is not None else None
    auth = request.app[_AUTH]
    if not auth.allows(request.headers.get("Authorization", ""), repository):
        challenge = {"WWW-Authenticate": auth.challenge(repository)}
        return _error(401, "UNAUTHORIZED", "authentication required", challenge)
    return await handler(request)


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _base(request: web.Request) -> web.Response:
    return web.json_response({}, headers=_API_VERSION)


def _manifest_media_type(data: bytes, fallback: str) -> str:
    """The manifest's own ``mediaType``, else what its shape says (OCI manifests may omit it)."""
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return fallback or "application/octet-stream"
    if isinstance(doc, dict):
        media = doc.get("mediaType")
        if isinstance(media, str) and media:
            return media
        if "manifests" in doc:
            return _OCI_INDEX
        if "layers" in doc:
            return _OCI_MANIFEST
    return fallback or "application/octet-stream"


async def _v2(request: web.Request) -> web.StreamResponse:
    match = _PATH_RE.match(request.match_info["tail"])
    if match is None:
        return _error(404, "NAME_UNKNOWN", f"no such route: {request.path}")
    name, kind, ref = match["name"], match["kind"], match["ref"]
    client, content = request.app[CLIENT], request.app[_CONTENT]
    try:
        if not await content.knows(name):
            return _error(404, "NAME_UNKNOWN", f"repository {name} is not on this node")
        if not _DIGEST_RE.match(ref) and (kind == "blobs" or ":" in ref):
            return _error(400, "DIGEST_INVALID", f"invalid digest {ref!r}")
        if _DIGEST_RE.match(ref) and not await content.holds(name, ref):
            code = "MANIFEST_UNKNOWN" if kind == "manifests" else "BLOB_UNKNOWN"
            return _error(404, code, f"{ref} is not in an image of {name} on this node")
        if kind == "manifests":
            return await _manifest(request, client, name, ref)
        return await _blob(request, client, ref, content)
    except ContainerdError as exc:
        log.warning("node: %s %s: %s", request.method, request.path, exc)
        return _error(503, "UNAVAILABLE", str(exc))


async def _manifest(request: web.Request, client: ContainerdClient, name: str, ref: str) -> web.Response:
    fallback = ""
    if _DIGEST_RE.match(ref):
        digest = ref
    else:
        origin = origin_of(name)  # containerd's record has the registry's port as it is
        target = await client.image(f"{'/'.join(origin) if origin else name}:{ref}")
        if target is None:
            return _error(404, "MANIFEST_UNKNOWN", f"{name}:{ref} is not on this node")
        digest, fallback = target.digest, target.media_type
    info = await client.blob_info(digest)
    if info is None:
        return _error(404, "MANIFEST_UNKNOWN", f"{name}@{digest} is not on this node")
    if info.size > MAX_MANIFEST:
        return _error(404, "MANIFEST_UNKNOWN", f"{digest} is {info.size} bytes: not a manifest")
    data = await client.read_small_blob(digest, MAX_MANIFEST)
    headers = {
        **_API_VERSION,
        "Docker-Content-Digest": digest,
        "Content-Type": _manifest_media_type(data, fallback),
    }
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(data))
        return web.Response(status=200, headers=headers)
    return web.Response(body=data, status=200, headers=headers)


async def _blob(
    request: web.Request, client: ContainerdClient, digest: str, content: RepositoryContent
) -> web.StreamResponse:
    info = await client.blob_info(digest)
    if info is None:  # streamed, or collected since the image was offered: engines go to its registry
        content.lost(digest)
        return _error(404, "BLOB_UNKNOWN", f"blob {digest} is not on this node")
    headers = {
        **_API_VERSION,
        "Docker-Content-Digest": digest,
        "Content-Type": "application/octet-stream",
        "Content-Length": str(info.size),
    }
    if request.method == "HEAD":
        return web.Response(status=200, headers=headers)
    response = web.StreamResponse(status=200, headers=headers)
    await response.prepare(request)
    try:
        async for chunk in client.read_blob(digest):
            await response.write(chunk)  # waits for the socket to drain: memory stays one chunk
    except ContainerdError as exc:
        # the status is sent: cut the connection so the client sees a short body, not a whole blob
        log.warning("node: %s %s: %s", request.method, request.path, exc)
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response


def make_distribution_app(
    client: ContainerdClient, auth: NodeAuth, content: RepositoryContent | None = None
) -> web.Application:
    """The daemon's HTTP application over an open ``ContainerdClient``, guarded by ``auth``."""
    app = web.Application(middlewares=[_auth])
    app[CLIENT] = client
    app[_AUTH] = auth
    app[_CONTENT] = content or RepositoryContent(client)
    app.router.add_get("/healthz", _healthz, allow_head=False)
    app.router.add_get("/v2/", _base)
    app.router.add_route("GET", "/v2/{tail:.+}", _v2)
    app.router.add_route("HEAD", "/v2/{tail:.+}", _v2)
    return app
