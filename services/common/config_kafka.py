"""The bus settings (``ASSAY_KAFKA_*``): brokers, authentication, consumer groups and the claim check."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.common.errors import ConfigError


class KafkaSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where the brokers are and how the clients authenticate (MSK, Confluent Cloud, Strimzi)."""

    bootstrap: str = ""  # "" = embedded broker (``assay up``)
    security_protocol: str = ""  # "" = PLAINTEXT; SASL_SSL with a SASL mechanism; SSL with a client cert
    sasl_mechanism: str = ""  # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
    sasl_username: str = ""
    sasl_password: str = ""
    ssl_cafile: str = ""  # a CA bundle for SSL/SASL_SSL; "" = the system's trust store
    # mTLS: this client's certificate chain and its key (PEM), sent when the broker asks for one
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    # at start, create the topics this service reads or writes when missing (false: an operator made
    # them; a principal with too few rights is tolerated either way, see KafkaBus.ensure_topics)
    ensure_topics: bool = True
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
    ssl_certfile: str = ""  # mTLS: the client certificate (PEM); "" = none
    ssl_keyfile: str = ""  # its private key (PEM); "" = in the certificate file


_KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def kafka_security(kafka: KafkaSettings) -> KafkaSecurity:
    """The Kafka security settings, checked: with no protocol set, a SASL mechanism means SASL_SSL and
    a client certificate alone (mTLS) means SSL."""
    mechanism = kafka.sasl_mechanism.upper()
    implied = "SASL_SSL" if mechanism else "SSL" if kafka.ssl_certfile else "PLAINTEXT"
    protocol = kafka.security_protocol.upper() or implied
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
    _check_tls_files(kafka, protocol)
    return KafkaSecurity(
        protocol=protocol,
        sasl_mechanism=mechanism if protocol.startswith("SASL_") else "",
        username=kafka.sasl_username,
        password=kafka.sasl_password,
        ssl_cafile=kafka.ssl_cafile,
        ssl_certfile=kafka.ssl_certfile,
        ssl_keyfile=kafka.ssl_keyfile,
    )


def _check_tls_files(kafka: KafkaSettings, protocol: str) -> None:
    """A client certificate needs TLS, and a key file needs its certificate."""
    if kafka.ssl_keyfile and not kafka.ssl_certfile:
        raise ConfigError("ASSAY_KAFKA_SSL_KEYFILE is set without ASSAY_KAFKA_SSL_CERTFILE")
    if kafka.ssl_certfile and protocol not in ("SSL", "SASL_SSL"):
        raise ConfigError(f"ASSAY_KAFKA_SSL_CERTFILE is set but the security protocol is {protocol} (no TLS)")
