"""The per-layer content cache in S3: ``CacheBackend`` over a synchronous botocore client.

Engine replicas share layer results through one bucket (``aws.s3_bucket``, keys under
``<aws.s3_prefix>layer-cache/<2 hex>/<key>.json``), selected by ``layer_cache_backend = "s3"``.

Why synchronous botocore rather than aiobotocore: ``CacheBackend`` is a synchronous interface
(``get``/``put``), called when a scan binds its analyzers and when it commits, and possibly
from the walk's worker thread. Bridging to aiobotocore would need a second event loop in a
dedicated thread and a blocking wait on it; botocore (already present: aiobotocore is built on
it) gives the same calls directly, and its clients are thread-safe. Each call blocks its caller
for one small request; short connect/read timeouts and two attempts bound that when S3 is
slow or down. As the interface requires, any failure is a cache miss (``get`` -> None) or a
logged, forgotten write, never a failed scan.
"""

from __future__ import annotations

import logging
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from services.common.aws import client_kwargs
from services.common.config import AwsConfig
from services.common.objectstore import is_missing, s3_prefix
from services.engine.content.cache import CacheBackend

__all__ = ["S3Backend"]

log = logging.getLogger(__name__)


class S3Backend(CacheBackend):
    """Layer results as objects in ``s3://bucket/<prefix>layer-cache/``."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = s3_prefix(prefix) + "layer-cache/"

    @classmethod
    def from_config(cls, config: AwsConfig) -> S3Backend:
        """A backend on its own botocore S3 client built from the ``aws`` settings."""
        client = botocore.session.get_session().create_client(
            "s3",
            config=Config(
                connect_timeout=3, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"}
            ),
            **client_kwargs(config),
        )
        return cls(client, config.s3_bucket, config.s3_prefix)

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key[:2]}/{key}.json"

    def get(self, key: str) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            with response["Body"] as body:
                data: bytes = body.read()
            return data
        except ClientError as exc:
            if not is_missing(exc):
                log.warning("layer cache: cannot read s3://%s/%s: %s", self.bucket, self._key(key), exc)
            return None
        except BotoCoreError as exc:
            log.warning("layer cache: cannot read s3://%s/%s: %s", self.bucket, self._key(key), exc)
            return None

    def put(self, key: str, value: bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=value)
        except (BotoCoreError, ClientError) as exc:
            log.warning("layer cache: cannot write s3://%s/%s: %s", self.bucket, self._key(key), exc)
