"""The distribution registry's notifications (``application/vnd.docker.distribution.events.v1+json``).

A registry configured with ``notifications.endpoints`` POSTs an envelope ``{"events": [...]}``;
each event has an ``action`` (``push``, ``pull``, ``delete``, ``mount``), a ``target`` (media type,
digest, repository, tag) and the ``request`` that caused it (``host`` as the client addressed the
registry). Pushes of manifests and indexes are sightings; deletes unlink the digest; everything
else (pulls, blob uploads) is skipped.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from schemas.events import ImageDiscovered, ImageRemoved
from services.inventory.webhooks.model import MANIFEST_TYPES, Parsed, WebhookError, removal, sighting

__all__ = ["parse_distribution"]


class _Target(msgspec.Struct, frozen=True, kw_only=True):
    mediaType: str = ""
    digest: str = ""
    repository: str = ""
    tag: str = ""
    size: int = 0


class _Request(msgspec.Struct, frozen=True, kw_only=True):
    host: str = ""


class _Event(msgspec.Struct, frozen=True, kw_only=True):
    action: str = ""
    target: _Target = msgspec.field(default_factory=_Target)
    request: _Request = msgspec.field(default_factory=_Request)


class _Envelope(msgspec.Struct, frozen=True, kw_only=True):
    events: list[_Event]


_DECODER = msgspec.json.Decoder(_Envelope)


def parse_distribution(body: bytes, registry: str, now: Callable[[], str], *, ou: str = "") -> Parsed:
    """Events for ``registry`` (the configured host this endpoint receives for) from one envelope.

    The registry is the receiver's configuration, not the envelope's ``request.host``: a sender
    can only ever speak for the registry its credentials were issued for.
    """
    try:
        envelope = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise WebhookError(f"not a distribution notification envelope: {exc}") from exc
    events: list[ImageDiscovered | ImageRemoved] = []
    skipped: list[str] = []
    for event in envelope.events:
        target = event.target
        what = f"{event.action} {target.repository}@{target.digest or '?'}"
        if not target.repository or not target.digest.startswith("sha256:"):
            skipped.append(f"{what}: no repository or digest")
        elif event.action == "push" and target.mediaType in MANIFEST_TYPES:
            events.append(sighting(registry, target.repository, target.digest, target.tag, now(), ou))
        elif event.action == "delete":
            events.append(removal(registry, target.repository, target.digest, now()))
        else:
            skipped.append(f"{what}: {event.action or 'no action'} of {target.mediaType or 'no media type'}")
    return Parsed(events=events, skipped=skipped)
