"""A Kafka-protocol broker for tests: ``ASSAY_KAFKA_BOOTSTRAP`` if set, else embedded Tansu.

Topics and consumer groups outlive a test on a shared broker: tests use fresh group names
(``unique_name``) and tell their own records apart by key or content.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.common.embedded import EmbeddedBroker

__all__ = ["kafka_bootstrap", "unique_name"]


@contextmanager
def kafka_bootstrap(data_dir: Path) -> Iterator[str]:
    """A bootstrap string: ``ASSAY_KAFKA_BOOTSTRAP`` when set, else an embedded broker."""
    # Test code may read the environment; services get it through services.common.config.
    external = os.environ.get("ASSAY_KAFKA_BOOTSTRAP", "")
    if external:
        yield external
        return
    with EmbeddedBroker(data_dir) as broker:
        yield broker.bootstrap


def unique_name(prefix: str) -> str:
    """A topic or group name no other test run uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
