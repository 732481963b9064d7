"""The adapter API's documents, as the specification's component schemas define them."""

from __future__ import annotations

from typing import Final, Literal

import msgspec

__all__ = [
    "ERROR_MIME",
    "METADATA_MIME",
    "RAW_REPORT_MIME",
    "REPORT_MIME",
    "SCAN_REQUEST_MIME",
    "SCAN_RESPONSE_MIME",
    "Artifact",
    "ErrorResponse",
    "HarborSeverity",
    "HarborVulnerabilityReport",
    "Registry",
    "ScanRequest",
    "ScanResponse",
    "Scanner",
    "ScannerAdapterMetadata",
    "ScannerCapability",
    "VulnerabilityItem",
]

METADATA_MIME: Final = "application/vnd.scanner.adapter.metadata+json; version=1.0"
SCAN_REQUEST_MIME: Final = "application/vnd.scanner.adapter.scan.request+json; version=1.0"
SCAN_RESPONSE_MIME: Final = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
REPORT_MIME: Final = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.1"
RAW_REPORT_MIME: Final = "application/vnd.scanner.adapter.vuln.report.raw"
ERROR_MIME: Final = "application/vnd.scanner.adapter.error+json; version=1.0"
OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST: Final = "application/vnd.docker.distribution.manifest.v2+json"

HarborSeverity = Literal["Unknown", "Negligible", "Low", "Medium", "High", "Critical"]


class _Doc(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Base of the adapter documents: absent optional properties are left out of the JSON."""


class Scanner(_Doc, frozen=True):
    name: str
    vendor: str
    version: str


class ScannerCapability(_Doc, frozen=True):
    consumes_mime_types: list[str]
    produces_mime_types: list[str]


class ScannerAdapterMetadata(_Doc, frozen=True):
    scanner: Scanner
    capabilities: list[ScannerCapability]
    properties: dict[str, str] = {}


class Registry(_Doc, frozen=True):
    url: str = ""
    authorization: str = ""


class Artifact(_Doc, frozen=True):
    repository: str = ""
    digest: str = ""
    tag: str = ""
    mime_type: str = ""


class ScanRequest(_Doc, frozen=True):
    registry: Registry
    artifact: Artifact


class ScanResponse(_Doc, frozen=True):
    id: str


class VulnerabilityItem(_Doc, frozen=True):
    id: str
    package: str
    version: str
    fix_version: str = ""
    severity: HarborSeverity = "Unknown"
    description: str = ""
    links: list[str] = []
    cve3_score: str = ""  # the specification types both scores as strings
    cve2_score: str = ""
    cvss3_vector: str = ""
    cvss2_vector: str = ""


class HarborVulnerabilityReport(_Doc, frozen=True):
    generated_at: str
    artifact: Artifact
    scanner: Scanner
    severity: HarborSeverity
    vulnerabilities: list[VulnerabilityItem]


class _Error(_Doc, frozen=True):
    message: str


class ErrorResponse(_Doc, frozen=True):
    error: _Error

    @classmethod
    def of(cls, message: str) -> ErrorResponse:
        """An error document carrying ``message``."""
        return cls(error=_Error(message=message))
