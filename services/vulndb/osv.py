"""The OSV record as read from an export, decoded with msgspec (https://ossf.github.io/osv-schema/).

Only what ingestion needs is typed; free-form objects (``database_specific``,
``ecosystem_specific``) are kept as raw JSON so they are stored byte for byte. Unknown
fields are ignored, so newer schema versions still decode. A record that does not fit
(not JSON, no ``id``, a field of the wrong type) raises ``msgspec.DecodeError`` or
``msgspec.ValidationError``, which ingestion counts as a bad record.
"""

from __future__ import annotations

from typing import Final

import msgspec


class Event(msgspec.Struct, frozen=True, omit_defaults=True):
    """One point of a range timeline; exactly one field is set in valid data."""

    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None
    limit: str | None = None


class Range(msgspec.Struct, frozen=True, omit_defaults=True):
    """``affected[].ranges[]``: a typed timeline of events."""

    type: str
    events: tuple[Event, ...] = ()
    repo: str | None = None


class Package(msgspec.Struct, frozen=True, omit_defaults=True):
    """``affected[].package``."""

    ecosystem: str = ""
    name: str = ""
    purl: str | None = None


class Affected(msgspec.Struct, frozen=True, omit_defaults=True):
    """``affected[]``: one package, its ranges and explicit versions."""

    package: Package | None = None
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    ecosystem_specific: msgspec.Raw = msgspec.Raw()
    database_specific: msgspec.Raw = msgspec.Raw()


class Severity(msgspec.Struct, frozen=True, omit_defaults=True):
    """``severity[]``: a scoring system and its score (usually a CVSS vector)."""

    type: str = ""
    score: str = ""


class Reference(msgspec.Struct, frozen=True, omit_defaults=True):
    """``references[]``."""

    type: str = ""
    url: str = ""


class Record(msgspec.Struct, frozen=True):
    """One OSV advisory."""

    id: str
    modified: str = ""
    published: str = ""
    withdrawn: str | None = None
    aliases: tuple[str, ...] | None = None
    upstream: tuple[str, ...] | None = None
    related: tuple[str, ...] | None = None
    summary: str = ""
    details: str = ""
    severity: tuple[Severity, ...] | None = None
    affected: tuple[Affected, ...] | None = None
    references: tuple[Reference, ...] | None = None
    database_specific: msgspec.Raw = msgspec.Raw()


RECORD_DECODER: Final = msgspec.json.Decoder(Record)
ENCODER: Final = msgspec.json.Encoder()


def raw_json(raw: msgspec.Raw) -> str | None:
    """The raw JSON text of a free-form field, or None when absent or ``null``."""
    data = bytes(raw)
    if not data or data == b"null":
        return None
    return data.decode()


def decode_record(data: bytes) -> Record:
    """Decode one OSV JSON document; raises ``msgspec.MsgspecError`` on bad input."""
    record = RECORD_DECODER.decode(data)
    if not record.id:
        raise msgspec.ValidationError("Object has an empty `id`")
    return record
