"""Content bundles: threat feeds, YARA rules and hash lists as the updater stores them for engines.

A bundle is the files it was made of (``ContentBundle``, msgpack), stored under its build id at
``content/<kind>/<build_id>/bundle.msgpack``; the updater announces it with a
``ContentBundlePublished`` on ``assay.advisories.v1`` and keeps the newest announcement at
``content/<kind>/current.json``, which engines read to find the bundle to load. The bundle is
written before the pointer, so the pointer always names a bundle that is there to download; the
pointer is replaced in one write, so a reader sees the old bundle or the new one, never a mix.
Parsing the files is the analyzers' job (the engine checks a bundle when it loads it).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import msgspec

from schemas.events import ContentBundlePublished
from schemas.vocabulary import BundleKind
from services.common.clock import rfc3339
from services.common.errors import AssayError
from services.common.objectstore import ObjectStore

__all__ = [
    "BundleError",
    "BundleFile",
    "ContentBundle",
    "bundle_key",
    "current_bundle",
    "load_bundle",
    "pointer_key",
    "store_bundle",
]


class BundleError(AssayError):
    """A content bundle or its pointer is missing, altered or unreadable."""


class BundleFile(msgspec.Struct, frozen=True):
    """One file of a bundle: its name (no directory) and its bytes."""

    name: str
    data: bytes


class ContentBundle(msgspec.Struct, frozen=True, kw_only=True):
    """What a bundle object holds: its kind and its files, sorted by name."""

    kind: BundleKind
    files: list[BundleFile]


def bundle_key(kind: BundleKind, build_id: str) -> str:
    """The object key of a bundle."""
    return f"content/{kind}/{build_id}/bundle.msgpack"


def pointer_key(kind: BundleKind) -> str:
    """The object key of the newest bundle's announcement of ``kind``."""
    return f"content/{kind}/current.json"


async def current_bundle(objects: ObjectStore, kind: BundleKind) -> ContentBundlePublished | None:
    """The newest stored bundle's announcement of ``kind``; None before the first."""
    data = await objects.get(pointer_key(kind))
    if data is None:
        return None
    try:
        return msgspec.json.decode(data, type=ContentBundlePublished)
    except msgspec.DecodeError as exc:
        raise BundleError(f"{objects.describe(pointer_key(kind))}: unreadable: {exc}") from exc


async def store_bundle(
    objects: ObjectStore, bundle: ContentBundle, sources: list[str]
) -> tuple[ContentBundlePublished, bool]:
    """Store ``bundle`` under a new build id and point at it, unless the current one holds the same
    files; the current announcement and whether it is new."""
    data = msgspec.msgpack.encode(bundle)
    sha = hashlib.sha256(data).hexdigest()
    current = await current_bundle(objects, bundle.kind)
    if current is not None and current.sha256 == sha:
        return current, False
    now = datetime.now(UTC).replace(microsecond=0)
    build_id = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{sha[:16]}"
    key = bundle_key(bundle.kind, build_id)
    await objects.put(key, data)
    published = ContentBundlePublished(
        kind=bundle.kind,
        build_id=build_id,
        object_key=key,
        sha256=sha,
        built_at=rfc3339(now),
        size_bytes=len(data),
        sources=sources,
        files=len(bundle.files),
    )
    await objects.put(pointer_key(bundle.kind), msgspec.json.encode(published))
    return published, True


async def load_bundle(objects: ObjectStore, published: ContentBundlePublished) -> ContentBundle:
    """The bundle ``published`` announces, its SHA-256 and kind checked (``BundleError`` otherwise)."""
    where = objects.describe(published.object_key)
    data = await objects.get(published.object_key)
    if data is None:
        raise BundleError(f"{published.kind} bundle {published.build_id}: {where} is missing")
    actual = hashlib.sha256(data).hexdigest()
    if actual != published.sha256:
        raise BundleError(f"{where} has SHA-256 {actual}, the announcement says {published.sha256}")
    try:
        bundle = msgspec.msgpack.decode(data, type=ContentBundle)
    except msgspec.DecodeError as exc:
        raise BundleError(f"{where}: not a content bundle: {exc}") from exc
    if bundle.kind != published.kind:
        raise BundleError(f"{where} holds {bundle.kind}, the announcement says {published.kind}")
    return bundle
