"""The analysis version: what a scan's results depend on besides the image itself.

``ANALYZER_VERSION`` (the engine's catalogers and matching) plus, for every content analyzer
the settings enable, its name, version and ruleset fingerprint (``ContentAnalyzer.fingerprint``:
rules files, feeds, policies, result-changing limits). When it changes, dedupe rescans an image
on its next sighting (``reason=analyzer-changed``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from services.common.config import Settings
from services.engine.content.interface import ContentAnalyzer
from services.engine.content.registry import build_analyzers
from services.engine.core import ANALYZER_VERSION

__all__ = ["analysis_version", "analysis_version_of"]


def analysis_version_of(analyzers: Sequence[ContentAnalyzer], engine_version: str = ANALYZER_VERSION) -> str:
    """``<engine version>+<12 hex of the analyzers' names, versions and fingerprints>``."""
    material = "\x1f".join(f"{a.name}\x1e{a.version}\x1e{a.fingerprint()}" for a in analyzers)
    return f"{engine_version}+{hashlib.sha256(material.encode()).hexdigest()[:12]}"


def analysis_version(settings: Settings) -> str:
    """The analysis version the engines configured by ``settings`` produce (``ConfigError`` if bad)."""
    return analysis_version_of(build_analyzers(settings))
