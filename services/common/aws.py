"""aiobotocore clients built from ``AwsConfig``, opened once per process and closed together.

Every AWS client Assay creates takes its region, endpoint and keys from ``client_kwargs`` (the
synchronous botocore client of the S3 layer cache too). Credentials come from the settings when both keys
are set, otherwise from botocore's own chain (environment, profile, IRSA web identity,
instance role): botocore reads those itself, Assay never touches ``os.environ`` for them.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from services.common.config import AwsConfig

__all__ = ["AwsClients"]


def client_kwargs(config: AwsConfig, region: str = "") -> dict[str, Any]:
    """Keyword arguments for ``create_client`` (aiobotocore or botocore) from the ``aws`` settings."""
    kwargs: dict[str, Any] = {"region_name": region or config.region}
    if config.endpoint_url:
        kwargs["endpoint_url"] = config.endpoint_url
    if config.access_key_id and config.secret_access_key:
        kwargs["aws_access_key_id"] = config.access_key_id
        kwargs["aws_secret_access_key"] = config.secret_access_key
    return kwargs


class AwsClients:
    """Lazily created clients per (service, region); ``async with`` closes them all.

    ``client("ecr")`` uses the configured region; ``client("ecr", "eu-west-1")`` another one
    (an ECR host names its region).
    """

    def __init__(self, config: AwsConfig) -> None:
        self.config = config
        self._session = get_session()
        self._stack = contextlib.AsyncExitStack()
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = asyncio.Lock()

    async def client(self, service: str, region: str = "") -> Any:
        """The open client for ``service`` in ``region`` (default: the configured one)."""
        key = (service, region or self.config.region)
        async with self._lock:
            existing = self._clients.get(key)
            if existing is not None:
                return existing
            creator = self._session.create_client(
                service,
                config=AioConfig(retries={"max_attempts": 4, "mode": "standard"}),
                **client_kwargs(self.config, key[1]),
            )
            client = await self._stack.enter_async_context(creator)
            self._clients[key] = client
            return client

    async def close(self) -> None:
        """Close every client opened so far."""
        self._clients.clear()
        await self._stack.aclose()

    async def __aenter__(self) -> AwsClients:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
