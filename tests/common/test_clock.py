"""One timestamp format: RFC 3339, UTC, to the second, ``Z`` (``services/common/clock.py``)."""

from __future__ import annotations

import datetime as dt
import re

from services.common.clock import FORMAT, rfc3339, utcnow

_WIRE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def test_utcnow_is_utc_to_the_second_with_z() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamp = utcnow()
    assert _WIRE.fullmatch(stamp)
    parsed = dt.datetime.strptime(stamp, FORMAT).replace(tzinfo=dt.UTC)
    assert before <= parsed <= dt.datetime.now(dt.UTC)


def test_rfc3339_converts_other_zones_and_drops_fractions() -> None:
    cest = dt.timezone(dt.timedelta(hours=2))
    assert rfc3339(dt.datetime(2024, 5, 2, 12, 15, 9, 987654, tzinfo=cest)) == "2024-05-02T10:15:09Z"
    assert rfc3339(dt.datetime(2024, 5, 2, 10, 15, 9)) == "2024-05-02T10:15:09Z"  # naive: taken as UTC
