"""Value records carried inside events and reports (not events themselves)."""

from __future__ import annotations

from typing import Literal

import msgspec

from schemas.vocabulary import Category, DetectionCategory, FixState, Severity


class Record(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Base of every value record: frozen, keyword-only, defaults omitted on the wire."""


class Distro(Record, frozen=True):
    """The operating system of an image, as its release files describe it."""

    id: str  # os-release ID, lower case: "debian", "alpine", "rhel", ...
    version_id: str = ""
    pretty_name: str = ""
    codename: str = ""


class LayerInfo(Record, frozen=True):
    """One layer of an image: its blob digest, uncompressed diff_id and the history line that made it."""

    digest: str
    diff_id: str = ""
    media_type: str = ""
    size: int = 0
    created_by: str = ""


class ImageInfo(Record, frozen=True):
    """What was scanned: the reference the user gave, the manifest digest and the layers."""

    ref: str
    digest: str = ""
    config_digest: str = ""
    platform: str = ""
    layers: list[LayerInfo] = []
    distro: Distro | None = None
    env: list[str] = []
    labels: dict[str, str] = {}


class PackageRecord(Record, frozen=True):
    """One installed package, normalised across ecosystems."""

    name: str
    version: str
    type: str  # purl type: "deb", "apk", "rpm", "pypi", "npm", ...
    purl: str
    source_name: str = ""
    source_version: str = ""
    arch: str = ""
    licenses: list[str] = []
    layer_digest: str = ""
    layer_created_by: str = ""
    locations: list[str] = []
    found_by: str = ""  # the cataloger that read it: "dpkg-status", "java-archive", ...
    declared: bool = False  # True: named by a lockfile or manifest, not found installed
    owner: str = ""  # purl of the OS package whose files include this package's files
    metadata: dict[str, str] = {}  # format-specific facts: jar sha1, go toolchain, rpm vendor, ...
    license_expression: str = ""  # the declared licenses as one SPDX expression (LicenseRef- for others)


class Unknown(Record, frozen=True):
    """A file Assay could not read: kept in the report with where and why, never silently dropped."""

    path: str
    reason: str
    layer_digest: str = ""


class VulnMatch(Record, frozen=True):
    """An advisory that affects an installed package."""

    vuln_id: str  # the preferred id: the CVE where there is one
    package_name: str
    package_version: str
    package_purl: str
    advisory_ids: list[str] = []  # every id the advisory carries (OSV id and aliases)
    ecosystem: str = ""
    fixed_version: str = ""
    severity: Severity = "UNKNOWN"
    summary: str = ""
    details: str = ""
    layer_digest: str = ""
    references: list[str] = []
    cvss_score: float = 0.0  # base score of ``cvss_vector`` (0.0: none)
    cvss_vector: str = ""  # the CVSS vector the score comes from
    severity_source: str = ""  # where ``severity`` comes from: cvss_v3, cvss_v4, debian, ubuntu, ghsa, ...
    known_exploited: bool = False  # a CVE id of the match is in CISA's KEV catalog
    epss: float = 0.0  # highest FIRST EPSS probability among the match's CVE ids
    fix_state: FixState = (
        ""  # "fixed" (a fixed version exists), "not-fixed", "wont-fix" (the distro will not fix)
    )


CoverageKind = Literal["no-advisories", "unknown-distro", "unsupported-distro", "eol-distro", "no-database"]


class CoverageGap(Record, frozen=True):
    """Something a scan could not check, so a clean result is never a silent zero.

    ``kind``: ``no-advisories`` (an ecosystem without advisory data), ``unknown-distro``,
    ``unsupported-distro``, ``eol-distro``, ``no-database``. ``subject`` names what (an
    ecosystem, ``debian-11``); ``severity`` is LOW or MEDIUM. The policy turns each gap into a
    ``Coverage`` finding with the id ``coverage:KIND:SUBJECT``.
    """

    kind: CoverageKind
    subject: str
    message: str
    severity: Severity = "MEDIUM"

    @property
    def id(self) -> str:
        """The finding id: ``coverage:KIND:SUBJECT``."""
        return f"coverage:{self.kind}:{self.subject}"

    def note(self) -> str:
        """The report note: the message and the marker ``[coverage:KIND:SUBJECT]``."""
        return f"{self.message} [{self.id}]"


class Detection(Record, frozen=True):
    """Something a content analyzer found in a file or in the image config.

    Categories: InsecureContent (leaked credentials), MaliciousFile, MaliciousURL,
    MaliciousIP, InsecureCode, Package (licenses). ``evidence`` is always redacted: a
    secret is shown as a short prefix plus a hash, never in full.
    """

    category: DetectionCategory
    rule_id: str
    severity: Severity
    title: str
    path: str = ""  # image path with leading slash; "" for image-config detections
    layer_digest: str = ""
    evidence: str = ""
    deleted: bool = False  # found in a copy a later layer deleted or replaced
    source: str = ""  # the ruleset, feed or engine that produced it
    package_purl: str = ""
    # secrets with live verification on (secret_verify): "verified", "invalid" or "unknown"
    verification: str = ""


class Finding(Record, frozen=True):
    """A policy outcome: what a ruleset made of a detection."""

    finding_id: str  # stable: digest, category, id and package
    category: Category
    id: str
    severity: Severity
    title: str
    description: str = ""
    package_name: str = ""
    purl: str = ""
    installed_version: str = ""
    fixed_version: str = ""
    layer_digest: str = ""
    environment: str = ""
    ruleset: str = "default"
    # what ruleset rules match on besides the above (services/policy/rules.py)
    fix_state: FixState = ""  # CVE: fixed, not-fixed, wont-fix
    known_exploited: bool = False  # CVE: in CISA's KEV catalog
    cvss_score: float = 0.0  # CVE: base score (0.0: none)
    cvss_vector: str = ""  # CVE: the CVSS vector the score comes from
    severity_source: str = ""  # CVE: where ``severity`` comes from (cvss_v3, debian, ghsa, ...)
    epss: float = 0.0  # CVE: FIRST EPSS exploitation probability, 0..1 (0.0: none)
    path: str = ""  # content detections: the file (leading slash; "" for the image config)
    evidence: str = ""  # content detections: always redacted (a prefix plus a hash), never a secret
    deleted: bool = False  # content detections: found in a copy a later layer deleted or replaced
    # set by a ruleset rule: a suppressed finding is kept and published but counts toward nothing
    suppression: str = ""  # the suppression's reason; "" = not suppressed
    policy_rule: str = ""  # the name of the last ruleset rule that acted on this finding
