"""aiobotocore clients built from ``AwsConfig``, opened once per process and closed together.

The only place Assay creates AWS clients. Credentials come from the settings when both keys
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

    def client_kwargs(self, region: str = "") -> dict[str, Any]:
        """Keyword arguments for ``create_client`` (also used by the synchronous S3 layer cache)."""
        kwargs: dict[str, Any] = {"region_name": region or self.config.region}
        if self.config.endpoint_url:
            kwargs["endpoint_url"] = self.config.endpoint_url
        if self.config.access_key_id and self.config.secret_access_key:
            kwargs["aws_access_key_id"] = self.config.access_key_id
            kwargs["aws_secret_access_key"] = self.config.secret_access_key
        return kwargs

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
                **self.client_kwargs(key[1]),
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
