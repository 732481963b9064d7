"""The read-only subset of the OCI distribution API, served from containerd's content store.

Routes (``name`` is a repository as the daemon reports it, e.g. ``docker.io/fixture/debian``):

- ``GET /v2/``: the API version check;
- ``GET|HEAD /v2/<name>/manifests/<reference>``: a tag (resolved through containerd's image
  record ``<name>:<tag>``) or a digest (an index, manifest or child manifest in the store);
- ``GET|HEAD /v2/<name>/blobs/<digest>``: configs and layers, streamed in containerd's chunks
  (constant memory, whatever the layer size);
- ``GET /healthz``: no authentication, for probes.

Every ``/v2`` request needs the daemon's token, as ``Authorization: Bearer <token>`` or as the
password of ``Basic`` credentials (any user name), so the engine's ``RegistryClient`` pulls with
``RegistryConfig(host=<advertised address>, insecure=True, username="assay", password=<token>)``.
A missing or wrong token is a 401 with a ``Basic`` challenge. The token is never logged.
Only repositories of images on the node are served.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Final

import msgspec
from aiohttp import web

from services.common.errors import ReferenceError_
from services.node.containerd import ContainerdClient, ContainerdError
from services.node.images import split_image_name

__all__ = ["CLIENT", "make_distribution_app", "token_matches"]

log = logging.getLogger(__name__)

CLIENT: Final = web.AppKey("containerd", ContainerdClient)
_TOKEN: Final = web.AppKey("token", str)
_REPOSITORIES: Final = web.AppKey("repositories", set[str])
_REALM = "assay-node"
_API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}
_MAX_MANIFEST = 4 * 1024 * 1024
_DIGEST_RE = re.compile(r"^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
_PATH_RE = re.compile(r"^(?P<name>[a-z0-9][a-z0-9._/:-]*)/(?P<kind>manifests|blobs)/(?P<ref>[^/]+)$")
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


def token_matches(header: str, token: str) -> bool:
    """Does an ``Authorization`` header carry ``token`` (Bearer, or Basic with it as password)?"""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        offered = value
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        offered = decoded.partition(":")[2]
    else:
        return False
    return bool(token) and hmac.compare_digest(offered.encode(), token.encode())


@web.middleware
async def _auth(request: web.Request, handler: _Handler) -> web.StreamResponse:
    if request.path == "/healthz":
        return await handler(request)
    if not token_matches(request.headers.get("Authorization", ""), request.app[_TOKEN]):
        return _error(
            401,
            "UNAUTHORIZED",
            "authentication required",
            {"WWW-Authenticate": f'Basic realm="{_REALM}"'},
        )
    return await handler(request)


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _base(request: web.Request) -> web.Response:
    return web.json_response({}, headers=_API_VERSION)


async def _known_repository(app: web.Application, name: str) -> bool:
    """Is ``name`` the repository of an image containerd holds in its namespace?

    Answered from the repositories seen at the last miss: a pull asks for a manifest and every
    blob under one name, so containerd's image list is read once per new name, not per request.
    """
    known = app[_REPOSITORIES]
    if name not in known:
        known.clear()
        for image in await app[CLIENT].images():
            try:
                repository, _, _ = split_image_name(image.name)
            except ReferenceError_:
                continue
            known.add(repository)
    return name in known


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
    client = request.app[CLIENT]
    try:
        if not await _known_repository(request.app, name):
            return _error(404, "NAME_UNKNOWN", f"repository {name} is not on this node")
        if kind == "manifests":
            return await _manifest(request, client, name, ref)
        return await _blob(request, client, ref)
    except ContainerdError as exc:
        log.warning("node: %s %s: %s", request.method, request.path, exc)
        return _error(503, "UNAVAILABLE", str(exc))


async def _manifest(request: web.Request, client: ContainerdClient, name: str, ref: str) -> web.Response:
    fallback = ""
    if _DIGEST_RE.match(ref):
        digest = ref
    elif ":" in ref:
        return _error(400, "DIGEST_INVALID", f"invalid digest {ref!r}")
    else:
        target = await client.image(f"{name}:{ref}")
        if target is None:
            return _error(404, "MANIFEST_UNKNOWN", f"{name}:{ref} is not on this node")
        digest, fallback = target.digest, target.media_type
    info = await client.blob_info(digest)
    if info is None:
        return _error(404, "MANIFEST_UNKNOWN", f"{name}@{digest} is not on this node")
    if info.size > _MAX_MANIFEST:
        return _error(404, "MANIFEST_UNKNOWN", f"{digest} is {info.size} bytes: not a manifest")
    data = await client.read_small_blob(digest, _MAX_MANIFEST)
    headers = {
        **_API_VERSION,
        "Docker-Content-Digest": digest,
        "Content-Type": _manifest_media_type(data, fallback),
    }
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(data))
        return web.Response(status=200, headers=headers)
    return web.Response(body=data, status=200, headers=headers)


async def _blob(request: web.Request, client: ContainerdClient, digest: str) -> web.StreamResponse:
    if not _DIGEST_RE.match(digest):
        return _error(400, "DIGEST_INVALID", f"invalid digest {digest!r}")
    info = await client.blob_info(digest)
    if info is None:
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


def make_distribution_app(client: ContainerdClient, token: str) -> web.Application:
    """The daemon's HTTP application over an open ``ContainerdClient``, guarded by ``token``."""
    app = web.Application(middlewares=[_auth])
    app[CLIENT] = client
    app[_TOKEN] = token
    app[_REPOSITORIES] = set()
    app.router.add_get("/healthz", _healthz, allow_head=False)
    app.router.add_get("/v2/", _base)
    app.router.add_route("GET", "/v2/{tail:.+}", _v2)
    app.router.add_route("HEAD", "/v2/{tail:.+}", _v2)
    return app
