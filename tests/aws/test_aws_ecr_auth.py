"""ECR registry credentials from moto's get_authorization_token: decoding, caching, refresh."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.aws import AwsClients
from services.common.errors import RegistryError
from services.oci.ecr import EcrCredentials, parse_ecr_host
from tests.harness.moto import ACCOUNT, REGION, MotoServer, ecr_password

HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
MOTO_EXPIRY = datetime(2015, 1, 1, tzinfo=UTC).timestamp()  # what moto answers as expiresAt


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_ecr_hosts_are_recognised() -> None:
    assert parse_ecr_host(HOST) is not None
    assert parse_ecr_host(HOST).account == ACCOUNT  # type: ignore[union-attr]
    assert parse_ecr_host("210987654321.dkr.ecr-fips.us-gov-west-1.amazonaws.com").region == "us-gov-west-1"  # type: ignore[union-attr]
    assert parse_ecr_host("ghcr.io") is None
    assert parse_ecr_host("public.ecr.aws") is None


async def test_token_is_decoded_and_cached_until_expiry_minus_margin(aws_clients: AwsClients) -> None:
    clock = Clock(MOTO_EXPIRY - 3600)  # an hour before moto's expiresAt
    creds = EcrCredentials(aws_clients, margin_s=300, clock=clock)
    assert await creds(HOST) == ("AWS", ecr_password())
    assert await creds(HOST) == ("AWS", ecr_password())
    assert creds.token_calls == 1  # served from the cache
    clock.now = MOTO_EXPIRY - 301
    await creds(HOST)
    assert creds.token_calls == 1  # still outside the margin
    clock.now = MOTO_EXPIRY - 299  # inside the refresh margin: fetch again
    assert await creds(HOST) == ("AWS", ecr_password())
    assert creds.token_calls == 2


async def test_an_expired_token_is_fetched_again_every_time(aws_clients: AwsClients) -> None:
    creds = EcrCredentials(aws_clients)  # the real clock: moto's 2015 token is always expired
    for _ in range(3):
        assert await creds(HOST) == ("AWS", ecr_password())
    assert creds.token_calls == 3


async def test_each_account_gets_its_own_token_and_other_hosts_none(aws_clients: AwsClients) -> None:
    creds = EcrCredentials(aws_clients, clock=Clock(MOTO_EXPIRY - 3600))
    other = "210987654321.dkr.ecr.eu-west-1.amazonaws.com"
    assert await creds(other) == ("AWS", ecr_password("210987654321"))
    assert await creds(HOST) == ("AWS", ecr_password())
    assert await creds("127.0.0.1:5000") is None
    assert creds.token_calls == 2


async def test_an_unreachable_control_plane_is_a_registry_error(moto: MotoServer) -> None:
    config = moto.aws_config(endpoint_url="http://127.0.0.1:1")
    async with AwsClients(config) as clients:
        creds = EcrCredentials(clients)
        with pytest.raises(RegistryError, match="ECR authorization token"):
            await creds(HOST)
