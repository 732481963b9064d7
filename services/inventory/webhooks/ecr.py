"""ECR image actions as EventBridge delivers them (``detail-type: ECR Image Action``).

An EventBridge rule on ``source: aws.ecr`` with an API destination POSTs each event:
``{"account", "region", "detail": {"result", "action-type": "PUSH" | "DELETE", "repository-name",
"image-digest", "image-tag"}}``. The registry is the account's ECR host in that region; events of
accounts the receiver was not configured for are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import msgspec

from schemas.events import ImageDiscovered, ImageRemoved
from services.inventory.webhooks.model import Parsed, WebhookError, removal, sighting

__all__ = ["ecr_host", "parse_ecr"]


class _Detail(msgspec.Struct, frozen=True, kw_only=True, rename="kebab"):
    result: str = ""
    action_type: str = ""
    repository_name: str = ""
    image_digest: str = ""
    image_tag: str = ""


class _Event(msgspec.Struct, frozen=True, kw_only=True, rename={"detail_type": "detail-type"}):
    source: str = ""
    detail_type: str = ""
    account: str = ""
    region: str = ""
    detail: _Detail = msgspec.field(default_factory=_Detail)


_DECODER = msgspec.json.Decoder(_Event)


def ecr_host(account: str, region: str) -> str:
    """The registry host of an account's ECR in a region."""
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def parse_ecr(body: bytes, accounts: Collection[str], now: Callable[[], str], *, ou: str = "") -> Parsed:
    """Events from one EventBridge delivery, for the configured ``accounts`` only."""
    try:
        event = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise WebhookError(f"not an EventBridge event: {exc}") from exc
    d = event.detail
    what = f"{d.action_type} {d.repository_name}@{d.image_digest or '?'}"
    if event.source != "aws.ecr" or event.detail_type != "ECR Image Action":
        return Parsed(skipped=[f"{event.source} {event.detail_type!r} is not an ECR image action"])
    if event.account not in accounts:
        return Parsed(skipped=[f"{what}: account {event.account} is not one this endpoint receives for"])
    if d.result != "SUCCESS" or not d.repository_name or not d.image_digest.startswith("sha256:"):
        return Parsed(skipped=[f"{what}: result {d.result or 'missing'} or no repository/digest"])
    registry = ecr_host(event.account, event.region)
    if d.action_type == "PUSH":
        found: ImageDiscovered | ImageRemoved = sighting(
            registry, d.repository_name, d.image_digest, d.image_tag, now(), ou
        )
    elif d.action_type == "DELETE":
        found = removal(registry, d.repository_name, d.image_digest, now())
    else:
        return Parsed(skipped=[f"{what}: action {d.action_type} is not a push or a delete"])
    return Parsed(events=[found])
