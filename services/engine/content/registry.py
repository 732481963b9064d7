"""The explicit registry of content analyzers, built from typed settings.

Each entry is a name and a factory from ``Settings``; ``content_analyzers`` picks which
run. Malware, URL/IP feeds and licenses register here the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from schemas.records import LayerInfo
from services.common.errors import ConfigError
from services.engine.content.cache import BoundScan, DirectoryBackend, LayerCache
from services.engine.content.insecure.analyzer import InsecureCodeAnalyzer
from services.engine.content.interface import ContentAnalyzer
from services.engine.content.malware.analyzer import MalwareAnalyzer, MalwareConfig
from services.engine.content.netioc.analyzer import NetIocAnalyzer
from services.engine.content.netioc.store import load_index
from services.engine.content.secrets.analyzer import SecretsAnalyzer
from services.engine.content.secrets.ruleset import load_ruleset
from services.engine.content.secrets.verify import SecretVerifier
from services.engine.licenses.analyzer import LicenseAnalyzer
from services.engine.licenses.policy import load_policy

if TYPE_CHECKING:
    from services.settings import Settings


def _secrets(settings: Settings) -> ContentAnalyzer:
    ruleset = load_ruleset(
        Path(settings.secret.rules) if settings.secret.rules else None,
        extra_allow_paths=settings.secret.allow_paths,
    )
    return SecretsAnalyzer(
        ruleset,
        max_bytes=settings.secret.max_bytes,
        seconds_max=settings.budget.parse_seconds_max,
        verifier=SecretVerifier() if settings.secret.verify else None,
    )


def _insecure(settings: Settings) -> ContentAnalyzer:
    return InsecureCodeAnalyzer()


def _malware(settings: Settings) -> ContentAnalyzer:
    return MalwareAnalyzer(
        MalwareConfig(
            yara_rules_dir=settings.malware.yara_rules_dir,
            clamd_address=settings.malware.clamd_address,
            sha256_blocklist=settings.malware.sha256_blocklist,
            max_bytes=settings.malware.max_bytes,
        )
    )


def _netioc(settings: Settings) -> ContentAnalyzer:
    return NetIocAnalyzer(load_index(settings.effective_feeds_path))


def _licenses(settings: Settings) -> ContentAnalyzer:
    return LicenseAnalyzer(load_policy(Path(settings.license.policy)) if settings.license.policy else None)


NO_FEEDS_NOTE = (
    "no threat feeds loaded ({}): URL/IP analysis checked nothing; "
    "publish feeds with the updater (ASSAY_UPDATER_FEEDS_SOURCES) or run `assay feeds update`"
)

ANALYZERS: dict[str, Callable[[Settings], ContentAnalyzer]] = {
    "secrets": _secrets,
    "insecure": _insecure,
    "malware": _malware,
    "netioc": _netioc,
    "licenses": _licenses,
}


class ContentAnalysis:
    """The content analyzers and the layer cache of one process, built once from settings."""

    def __init__(self, analyzers: Sequence[ContentAnalyzer], cache: LayerCache | None) -> None:
        self.analyzers = tuple(analyzers)
        self.cache = cache

    @classmethod
    def from_settings(cls, settings: Settings) -> ContentAnalysis:
        """``ConfigError`` when an analyzer name or a rules file is bad."""
        return cls(build_analyzers(settings), build_layer_cache(settings))

    def notes(self) -> list[str]:
        """What these analyzers cannot check as configured, as a scan's notes: the URL/IP analyzer
        with no threat feed loaded finds nothing, and a clean result must not look like a check."""
        return [
            NO_FEEDS_NOTE.format(a.feeds.store or "no feed store")
            for a in self.analyzers
            if isinstance(a, NetIocAnalyzer) and not a.feeds
        ]

    def bind(self, layers: Sequence[LayerInfo]) -> BoundScan:
        """The analyzers for one image (cache-wrapped when the cache is on); ``commit`` after success."""
        if self.cache is None or not self.analyzers:
            return BoundScan(list(self.analyzers), layers)
        return self.cache.bind(self.analyzers, layers)


def build_analyzers(settings: Settings) -> tuple[ContentAnalyzer, ...]:
    """The analyzers ``settings.content.analyzers`` names, in registry order; built once per process."""
    unknown = sorted(set(settings.content.analyzers) - set(ANALYZERS))
    if unknown:
        raise ConfigError(f"content_analyzers: unknown {unknown} (known: {sorted(ANALYZERS)})")
    wanted = set(settings.content.analyzers)
    return tuple(factory(settings) for name, factory in ANALYZERS.items() if name in wanted)


def build_layer_cache(settings: Settings) -> LayerCache | None:
    """The per-layer result cache (a local directory), or None when ``layer_cache`` is off."""
    if not settings.layer_cache.enabled:
        return None
    if settings.layer_cache.backend == "s3":  # shared by engine replicas (cache_s3.py)
        from services.engine.content.cache_s3 import S3Backend

        if not settings.aws.s3_bucket:
            raise ConfigError("layer_cache_backend is s3 but aws.s3_bucket (ASSAY_AWS_S3_BUCKET) is not set")
        return LayerCache(S3Backend.from_config(settings.aws))
    if settings.layer_cache.backend != "dir":
        raise ConfigError(f"layer_cache_backend: {settings.layer_cache.backend!r} is not 'dir' or 's3'")
    return LayerCache(DirectoryBackend(settings.effective_layer_cache_dir))


__all__ = ["ANALYZERS", "NO_FEEDS_NOTE", "ContentAnalysis", "build_analyzers", "build_layer_cache"]
