"""Fixtures for the AWS tests: one moto server per session, reset before each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from services.common.aws import AwsClients
from tests.harness.moto import MotoServer, moto_server


@pytest.fixture(scope="session")
def moto_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """``moto_server`` on a free port for the whole session."""
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def moto(moto_session: MotoServer) -> MotoServer:
    """The session's moto server with every resource forgotten."""
    moto_session.reset()
    return moto_session


@pytest.fixture
async def aws_clients(moto: MotoServer) -> AsyncIterator[AwsClients]:
    """aiobotocore clients against the moto server."""
    async with AwsClients(moto.aws_config()) as clients:
        yield clients
