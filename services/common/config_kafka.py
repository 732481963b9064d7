"""The bus settings (``ASSAY_KAFKA_*``): brokers, authentication, consumer groups and the claim check."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.common.errors import ConfigError


class KafkaSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where the brokers are and how the clients authenticate (MSK, Confluent Cloud, Strimzi)."""

    bootstrap: str = ""  # "" = embedded broker (``assay up``)
    security_protocol: str = ""  # "" = PLAINTEXT, or SASL_SSL when a SASL mechanism is set
    sasl_mechanism: str = ""  # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
    sasl_username: str = ""
    sasl_password: str = ""
    ssl_cafile: str = ""  # a CA bundle for SSL/SASL_SSL; "" = the system's trust store
    consumer_group_prefix: str = "assay"  # consumer groups are <prefix>-<service>
    # bus payloads larger than this go to the object store (the claim check)
    claim_check_bytes: Annotated[int, msgspec.Meta(gt=0)] = 512 * 1024


class KafkaSecurity(msgspec.Struct, frozen=True, kw_only=True):
    """How the Kafka clients authenticate, checked (``kafka_security``)."""

    protocol: str = "PLAINTEXT"  # PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL
    sasl_mechanism: str = ""  # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
    username: str = ""
    password: str = ""
    ssl_cafile: str = ""  # a CA bundle for SSL/SASL_SSL; "" = the system's trust store


_KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def kafka_security(kafka: KafkaSettings) -> KafkaSecurity:
    """The Kafka security settings, checked: a SASL mechanism without a protocol means SASL_SSL."""
    mechanism = kafka.sasl_mechanism.upper()
    protocol = kafka.security_protocol.upper() or ("SASL_SSL" if mechanism else "PLAINTEXT")
    if protocol not in _KAFKA_PROTOCOLS:
        choices = ", ".join(_KAFKA_PROTOCOLS)
        raise ConfigError(f"ASSAY_KAFKA_SECURITY_PROTOCOL: {protocol!r} is not one of {choices}")
    if protocol.startswith("SASL_"):
        if mechanism not in _SASL_MECHANISMS:
            choices = ", ".join(_SASL_MECHANISMS)
            shown = mechanism or "(empty)"
            raise ConfigError(f"ASSAY_KAFKA_SASL_MECHANISM: {shown!r} is not one of {choices}")
        if not kafka.sasl_username or not kafka.sasl_password:
            raise ConfigError("ASSAY_KAFKA_SASL_USERNAME and ASSAY_KAFKA_SASL_PASSWORD are needed for SASL")
    elif mechanism:
        raise ConfigError(f"ASSAY_KAFKA_SASL_MECHANISM is set but the security protocol is {protocol}")
    return KafkaSecurity(
        protocol=protocol,
        sasl_mechanism=mechanism if protocol.startswith("SASL_") else "",
        username=kafka.sasl_username,
        password=kafka.sasl_password,
        ssl_cafile=kafka.ssl_cafile,
    )
