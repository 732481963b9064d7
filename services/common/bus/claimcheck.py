"""Claim-check for large bus payloads: the bytes go to the object store, the record carries a reference.

Kafka refuses records over ``message.max.bytes`` (1 MiB by default on Apache Kafka and MSK),
and a ``ScanCompleted`` for a big image can pass that. A ``ClaimCheck`` given to ``KafkaBus``
(``claim_check=``) works on both sides of the transport:

- ``outgoing``: a value longer than ``threshold`` bytes is stored in the ``ObjectStore`` under
  ``claims/<topic>/<sha256 of the value>`` and the record is sent with an empty value and the
  headers ``assay-payload-ref`` (that key, a few dozen bytes) and ``assay-payload-size``;
- ``incoming``: a consumed record with that header gets its value back from the store before
  anyone decodes it, so handlers, the runner and the dead-letter path see the original bytes.

The topic schemas stay unchanged: the reference lives in a header, never in the payload. Keys
are content-addressed, so a replayed publish writes the same object again (idempotent). A
consumer without the claim check sees an empty value, which fails to decode and is
dead-lettered rather than mistaken for an event. Objects are never deleted here: give the
bucket a lifecycle rule that expires ``claims/`` after the topics' retention.

A store failure while publishing or fetching raises ``BusError`` (the service stops
uncommitted and the record comes back); a reference whose object is gone is logged and the
record is delivered with an empty value, so the runner dead-letters it instead of looping.

Anyone who can write to a topic can put any header on a record, so a reference is trusted
only in the one shape ``outgoing`` writes: ``claims/<this record's topic>/<64 hex>``. Any
other key (another topic's payload, ``../``, some other object in the bucket) is never
fetched, and a fetched object whose sha256 is not the one in its key is not used: either
way the record is delivered empty and dead-lettered, and the consumer goes on.
"""

from __future__ import annotations

import hashlib
import logging
import re

import msgspec

from services.common.bus.interface import Headers, Message
from services.common.errors import BusError
from services.common.objectstore import ObjectStore, ObjectStoreError

__all__ = ["DEFAULT_THRESHOLD", "PAYLOAD_REF_HEADER", "PAYLOAD_SIZE_HEADER", "ClaimCheck", "claim_key"]

log = logging.getLogger(__name__)

PAYLOAD_REF_HEADER = "assay-payload-ref"
PAYLOAD_SIZE_HEADER = "assay-payload-size"
DEFAULT_THRESHOLD = 512 * 1024
"""Half of Kafka's default ``message.max.bytes`` (1 MiB): headroom for headers and batch overhead."""
_PREFIX = "claims/"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def claim_key(topic: str, value: bytes) -> str:
    """The object key of a payload: content-addressed per topic."""
    return f"{_PREFIX}{topic}/{hashlib.sha256(value).hexdigest()}"


class ClaimCheck:
    """Moves values over ``threshold`` bytes to ``store`` and back (see the module docstring)."""

    def __init__(self, store: ObjectStore, *, threshold: int = DEFAULT_THRESHOLD) -> None:
        if threshold < 1:
            raise ValueError("the claim-check threshold must be at least 1 byte")
        self.store = store
        self.threshold = threshold

    async def outgoing(
        self, topic: str, value: bytes, headers: Headers
    ) -> tuple[bytes, list[tuple[str, bytes]]]:
        """The value and headers to send: unchanged, or an empty value plus the reference headers."""
        if len(value) <= self.threshold:
            return value, list(headers)
        ref = claim_key(topic, value)
        try:
            await self.store.put(ref, value)
        except ObjectStoreError as exc:
            raise BusError(f"cannot publish to {topic}: claim-check store failed: {exc}") from exc
        extra = [(PAYLOAD_REF_HEADER, ref.encode()), (PAYLOAD_SIZE_HEADER, str(len(value)).encode())]
        return b"", [*headers, *extra]

    async def incoming(self, message: Message) -> Message:
        """``message`` with its claim-checked value fetched back (unchanged when it has none)."""
        ref = next((v for k, v in message.headers if k == PAYLOAD_REF_HEADER), None)
        if ref is None:
            return message
        key = ref.decode("utf-8", "replace")
        where = f"{message.topic}[{message.partition}]@{message.offset}"
        expected = _digest_in(key, message.topic)
        if expected is None:
            log.error(
                "%s: claim-check reference %r is not one of this topic's; delivering it empty", where, key
            )
            return msgspec.structs.replace(message, value=b"")
        try:
            value = await self.store.get(key)
        except ObjectStoreError as exc:
            raise BusError(f"{where}: cannot fetch the claim-checked payload: {exc}") from exc
        if value is None:
            log.error(
                "%s: claim-checked payload %s is gone; delivering it empty", where, self.store.describe(key)
            )
            return msgspec.structs.replace(message, value=b"")
        if hashlib.sha256(value).hexdigest() != expected:
            log.error("%s: claim-checked payload %s does not match its key; delivering it empty", where, key)
            return msgspec.structs.replace(message, value=b"")
        return msgspec.structs.replace(message, value=value)


def _digest_in(key: str, topic: str) -> str | None:
    """The sha256 hex a well-formed reference for ``topic`` names, else None."""
    prefix = f"{_PREFIX}{topic}/"
    if not key.startswith(prefix) or not _HEX64.fullmatch(key[len(prefix) :]):
        return None
    return key[len(prefix) :]
