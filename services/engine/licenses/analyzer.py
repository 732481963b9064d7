"""Package licenses as findings: the ``Package`` category of content detections.

Runs over the finished inventory (no files of its own): each package's declared licenses,
normalised to one SPDX expression, are classed by the license policy; forbidden,
restricted and unknown ones become detections naming the package, its file and layer.
OS-owned packages (an OS package type, or a package whose ``owner`` is one) are only
judged when the policy's ``os_packages`` says "judged"; by default their licenses are
informational: in the inventory and SBOMs, never a finding.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.records import Detection, PackageRecord
from services.engine.content.interface import ContentAnalyzer
from services.engine.licenses.normalize import normalize_all
from services.engine.licenses.policy import LicensePolicy, classify, default_policy
from services.engine.requests import FileRequest
from services.engine.walk import FileHit

OS_PACKAGE_TYPES = frozenset({"deb", "apk", "rpm"})


def os_owned(pkg: PackageRecord) -> bool:
    """Whether the distribution ships ``pkg``: an OS package, or one an OS package installed."""
    owner_type = pkg.owner.removeprefix("pkg:").split("/", 1)[0] if pkg.owner else ""
    return pkg.type in OS_PACKAGE_TYPES or owner_type in OS_PACKAGE_TYPES


class LicenseAnalyzer(ContentAnalyzer):
    """Package findings for licenses the policy reports."""

    name = "licenses"
    version = "1"

    def __init__(self, policy: LicensePolicy | None = None) -> None:
        self.policy = policy if policy is not None else default_policy()

    @property
    def requests(self) -> Sequence[FileRequest]:
        return ()

    def scan_file(self, hit: FileHit) -> list[Detection]:
        return []

    def scan_packages(self, packages: Sequence[PackageRecord]) -> list[Detection]:
        out: list[Detection] = []
        judge_os = self.policy.os_packages == "judged"
        for pkg in packages:
            if not judge_os and os_owned(pkg):
                continue
            expression = pkg.license_expression or normalize_all(pkg.licenses)
            if not expression:
                continue
            license_class = classify(expression, self.policy)
            severity = self.policy.severity.get(license_class)
            if not severity:
                continue
            out.append(
                Detection(
                    category="Package",
                    rule_id=f"license-{license_class}",
                    severity=severity,
                    title=f"{pkg.name} {pkg.version} is licensed {expression} ({license_class})",
                    path=pkg.locations[0] if pkg.locations else "",
                    layer_digest=pkg.layer_digest,
                    evidence=expression,
                    source="license-policy",
                    package_purl=pkg.purl,
                )
            )
        return out
