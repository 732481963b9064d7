"""Kafka TLS/SASL settings (MSK, Confluent, Strimzi SCRAM users) become aiokafka client options."""

from __future__ import annotations

import ssl

import pytest

from services.common.bus.kafka import connection_options
from services.common.config import kafka_security
from services.common.errors import ConfigError
from services.settings import Settings, load_settings


def _settings(**env: str) -> Settings:
    return load_settings({f"ASSAY_KAFKA_{k.upper()}": v for k, v in env.items()})


def test_no_settings_is_plaintext_with_no_options() -> None:
    security = kafka_security(_settings().kafka)
    assert security.protocol == "PLAINTEXT"
    assert connection_options(security) == {}


def test_a_sasl_mechanism_alone_means_sasl_ssl_with_a_tls_context() -> None:
    security = kafka_security(
        _settings(sasl_mechanism="scram-sha-512", sasl_username="assay", sasl_password="s3cret").kafka
    )
    options = connection_options(security)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("assay", "s3cret")
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_sasl_plaintext_has_no_tls_context() -> None:
    security = kafka_security(
        _settings(
            security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="a", sasl_password="b"
        ).kafka
    )
    options = connection_options(security)
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert "ssl_context" not in options


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"security_protocol": "SASL_TLS"}, "ASSAY_KAFKA_SECURITY_PROTOCOL"),
        (
            {"sasl_mechanism": "GSSAPI", "sasl_username": "a", "sasl_password": "b"},
            "ASSAY_KAFKA_SASL_MECHANISM",
        ),
        ({"sasl_mechanism": "PLAIN", "sasl_username": "a"}, "ASSAY_KAFKA_SASL_PASSWORD"),
        ({"security_protocol": "SSL", "sasl_mechanism": "PLAIN"}, "protocol is SSL"),
        ({"ssl_keyfile": "/k.pem"}, "ASSAY_KAFKA_SSL_KEYFILE is set without ASSAY_KAFKA_SSL_CERTFILE"),
        (
            {
                "security_protocol": "SASL_PLAINTEXT",
                "sasl_mechanism": "PLAIN",
                "sasl_username": "a",
                "sasl_password": "b",
                "ssl_certfile": "/c.pem",
            },
            "ASSAY_KAFKA_SSL_CERTFILE is set but .* SASL_PLAINTEXT",
        ),
    ],
)
def test_inconsistent_settings_are_refused_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        kafka_security(_settings(**env).kafka)
