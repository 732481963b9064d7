"""Harbor's webhooks, in Harbor's *Default* payload format.

``{"type": "PUSH_ARTIFACT" | "DELETE_ARTIFACT" | ..., "occur_at": ..., "operator": ...,
"event_data": {"resources": [{"digest", "tag", "resource_url"}], "repository": {"repo_full_name",
...}}}``. Artifact pushes are sightings; artifact deletes unlink the digest; other event types
(pulls, scans, quotas, replication) are skipped.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from schemas.events import ImageDiscovered, ImageRemoved
from services.inventory.webhooks.model import Parsed, WebhookError, removal, sighting

__all__ = ["parse_harbor"]


class _Resource(msgspec.Struct, frozen=True, kw_only=True):
    digest: str = ""
    tag: str = ""
    resource_url: str = ""


class _Repository(msgspec.Struct, frozen=True, kw_only=True):
    repo_full_name: str = ""


class _Data(msgspec.Struct, frozen=True, kw_only=True):
    resources: list[_Resource] = []
    repository: _Repository = msgspec.field(default_factory=_Repository)


class _Payload(msgspec.Struct, frozen=True, kw_only=True):
    type: str
    event_data: _Data = msgspec.field(default_factory=_Data)


_DECODER = msgspec.json.Decoder(_Payload)


def parse_harbor(body: bytes, registry: str, now: Callable[[], str], *, ou: str = "") -> Parsed:
    """Events for ``registry`` (the Harbor host this endpoint receives for) from one webhook call."""
    try:
        payload = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise WebhookError(f"not a Harbor webhook payload: {exc}") from exc
    repository = payload.event_data.repository.repo_full_name
    events: list[ImageDiscovered | ImageRemoved] = []
    skipped: list[str] = []
    for res in payload.event_data.resources:
        what = f"{payload.type} {repository}@{res.digest or '?'}"
        if not repository or not res.digest.startswith("sha256:"):
            skipped.append(f"{what}: no repository or digest")
        elif payload.type == "PUSH_ARTIFACT":
            events.append(sighting(registry, repository, res.digest, res.tag, now(), ou))
        elif payload.type == "DELETE_ARTIFACT":
            events.append(removal(registry, repository, res.digest, now()))
        else:
            skipped.append(f"{what}: event type {payload.type} is not a push or a delete")
    return Parsed(events=events, skipped=skipped)
