"""A small async object store seam: bytes by key, in S3 or in a local directory.

Used for what does not belong on the bus or in PostgreSQL: claim-checked bus payloads
(``services/common/bus/claimcheck.py``). Keys are ``/``-separated relative paths; the S3
implementation puts them under its prefix, the directory one under its root.

Every failure leaves as ``ObjectStoreError`` chained with ``from``; a missing key is not an
error but ``None`` from ``get``.
"""

from __future__ import annotations

import abc
import asyncio
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from services.common.config import AwsConfig, ObjectStoreSettings
from services.common.errors import AssayError
from services.common.files import write_atomic

if TYPE_CHECKING:
    from services.common.aws import AwsClients

__all__ = ["DirectoryObjectStore", "ObjectStore", "ObjectStoreError", "S3ObjectStore", "object_store_for"]


class ObjectStoreError(AssayError):
    """The object store could not be read or written."""


def _check_key(key: str) -> str:
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts:
        raise ObjectStoreError(f"invalid object key {key!r}")
    return key


class ObjectStore(abc.ABC):
    """Bytes by key. Implementations are safe to share between tasks of one event loop."""

    @abc.abstractmethod
    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing any previous value."""

    @abc.abstractmethod
    async def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None when there is no such object."""

    @abc.abstractmethod
    def describe(self, key: str) -> str:
        """Where ``key`` lives, for messages (``s3://bucket/prefix/key``, a path)."""


class DirectoryObjectStore(ObjectStore):
    """One file per key under ``root``, written atomically (temp file + rename).

    For one machine (``assay up``, tests): every process sharing the directory sees the objects.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self, key: str) -> str:
        return str(self.root / _check_key(key))

    def _put(self, key: str, data: bytes) -> None:
        write_atomic(self.root / _check_key(key), data)

    def _get(self, key: str) -> bytes | None:
        try:
            return (self.root / _check_key(key)).read_bytes()
        except FileNotFoundError:
            return None

    async def put(self, key: str, data: bytes) -> None:
        try:
            await asyncio.to_thread(self._put, key, data)
        except OSError as exc:
            raise ObjectStoreError(f"cannot write {self.describe(key)}: {exc}") from exc

    async def get(self, key: str) -> bytes | None:
        try:
            return await asyncio.to_thread(self._get, key)
        except OSError as exc:
            raise ObjectStoreError(f"cannot read {self.describe(key)}: {exc}") from exc


def s3_prefix(prefix: str) -> str:
    """A key prefix as S3 keys use it: ``"team-a"`` -> ``"team-a/"``; ``""`` stays ``""``."""
    return prefix.strip("/") + "/" if prefix.strip("/") else ""


def is_missing(exc: ClientError) -> bool:
    """True when S3 answered that the object (or key) does not exist."""
    return exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound")


class S3ObjectStore(ObjectStore):
    """Objects in ``s3://bucket/prefix``, through an open aiobotocore S3 client."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = s3_prefix(prefix)

    def _key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    async def put(self, key: str, data: bytes) -> None:
        try:
            await self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise ObjectStoreError(f"cannot write {self.describe(key)}: {exc}") from exc

    async def get(self, key: str) -> bytes | None:
        try:
            response = await self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            async with response["Body"] as body:
                data: bytes = await body.read()
            return data
        except ClientError as exc:
            if is_missing(exc):
                return None
            raise ObjectStoreError(f"cannot read {self.describe(key)}: {exc}") from exc
        except BotoCoreError as exc:
            raise ObjectStoreError(f"cannot read {self.describe(key)}: {exc}") from exc


class ObjectStoreConfigured(Protocol):
    """The settings sections that say where the object store is (``services.settings.Settings``)."""

    @property
    def aws(self) -> AwsConfig: ...
    @property
    def object_store(self) -> ObjectStoreSettings: ...


async def object_store_for(settings: ObjectStoreConfigured, clients: AwsClients | None) -> ObjectStore | None:
    """The configured store: S3 when ``aws.s3_bucket`` is set (needs ``clients``), else the
    directory ``object_store.dir``, else None (no object store)."""
    if settings.aws.s3_bucket:
        if clients is None:
            raise ObjectStoreError("aws.s3_bucket is set but no AWS clients were opened")
        return S3ObjectStore(await clients.client("s3"), settings.aws.s3_bucket, settings.aws.s3_prefix)
    if settings.object_store.dir:
        return DirectoryObjectStore(Path(settings.object_store.dir))
    return None
