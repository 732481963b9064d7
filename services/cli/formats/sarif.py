"""SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/): findings for code-scanning UIs.

One rule per vulnerability, coverage gap or content rule, one result per finding, located at
the file the package was read from (its first ``locations`` entry, without the leading ``/``),
the file a content analyzer flagged, or, for neither, at the image reference. Rules carry the
``security-severity`` property GitHub code scanning ranks by (the CVSS base score when there is one, else a
score inside the rating's band) and results the package, versions, fix state and KEV
mark. Suppressed findings are results too, each with an ``accepted`` external suppression
giving the reason, so a code-scanning UI shows them as dismissed rather than losing them.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from schemas.records import Finding, PackageRecord, VulnMatch
from services.policy.report import Report, Suppressed, match_index
from services.policy.rules import DETECTION_CATEGORIES

SCHEMA_URI: Final = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI: Final = "https://github.com/assay-scanner/assay"
# A score inside each rating's band, for ratings without a CVSS score (code scanning reads the number).
_BAND_SCORE: Final = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "2.0"}
_LEVEL: Final = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note"}


def _security_severity(f: Finding, m: VulnMatch | None) -> str | None:
    if m is not None and m.cvss_score > 0:
        return f"{m.cvss_score:.1f}"
    return _BAND_SCORE.get(f.severity)


def _rule(f: Finding, m: VulnMatch | None) -> dict[str, Any]:
    summary = (m.summary if m is not None else "") or f.title
    details = (m.details if m is not None else "") or f.description or summary
    refs = m.references if m is not None else []
    tag = {"CVE": "vulnerability", "Coverage": "coverage"}.get(f.category, f.category)
    props: dict[str, Any] = {"tags": ["security", tag]}
    score = _security_severity(f, m)
    if score is not None:
        props["security-severity"] = score
    if m is not None and m.cvss_vector:
        props["cvssV3_vector" if m.cvss_vector.startswith("CVSS:3") else "cvss_vector"] = m.cvss_vector
    rule: dict[str, Any] = {
        "id": f.id,
        "name": f.id.replace(":", "_"),
        "shortDescription": {"text": summary[:1000]},
        "fullDescription": {"text": details[:4000]},
        "defaultConfiguration": {"level": _LEVEL.get(f.severity, "note")},
        "help": {
            "text": "\n".join([details[:4000], *refs]),
            "markdown": "\n\n".join([details[:4000], *(f"- <{r}>" for r in refs)]),
        },
        "properties": props,
    }
    if refs:
        rule["helpUri"] = refs[0]
    return rule


def _uri(f: Finding, packages: dict[str, PackageRecord], image_ref: str) -> str:
    if f.path:
        return f.path.lstrip("/")
    pkg = packages.get(f.purl)
    if pkg is not None and pkg.locations:
        return pkg.locations[0].lstrip("/")
    return image_ref


def _message(f: Finding, m: VulnMatch | None) -> str:
    if f.category != "CVE":
        return f.description or f.title
    fix = f"fixed in {f.fixed_version}" if f.fixed_version else "no fixed version"
    if m is not None and m.fix_state == "wont-fix":
        fix = "the distribution will not fix it"
    kev = " It is in CISA's Known Exploited Vulnerabilities catalog." if m and m.known_exploited else ""
    return f"{f.package_name} {f.installed_version} is affected by {f.id} ({f.severity}); {fix}.{kev}" + (
        f" {m.summary}" if m is not None and m.summary else ""
    )


def _result(
    f: Finding,
    m: VulnMatch | None,
    rule_index: int,
    uri: str,
    suppressed: Suppressed | None,
) -> dict[str, Any]:
    props: dict[str, Any] = {"category": f.category, "severity": f.severity}
    if f.category == "CVE":
        props.update(
            purl=f.purl,
            installedVersion=f.installed_version,
            fixedVersion=f.fixed_version,
            fixState=m.fix_state if m is not None else "",
            knownExploited=bool(m is not None and m.known_exploited),
            advisoryIds=m.advisory_ids if m is not None else [f.id],
        )
    elif f.category in DETECTION_CATEGORIES:
        props.update(evidence=f.evidence, deletedLater=f.deleted)
    if f.layer_digest:
        props["layerDigest"] = f.layer_digest
    result: dict[str, Any] = {
        "ruleId": f.id,
        "ruleIndex": rule_index,
        "level": _LEVEL.get(f.severity, "note"),
        "message": {"text": _message(f, m)},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}},
                "logicalLocations": [{"name": f.purl or f.id, "kind": "package" if f.purl else "image"}],
            }
        ],
        "partialFingerprints": {"assayFinding/v1": f.finding_id},
        "properties": props,
    }
    if suppressed is not None:
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": suppressed.reason,
                "properties": {"kind": suppressed.kind, "source": suppressed.source},
            }
        ]
    return result


def to_sarif(report: Report) -> dict[str, Any]:
    """The report's findings (CVE, Coverage and content detections; not the ImageScan summary) and
    suppressed findings as one SARIF 2.1.0 log."""
    index = match_index(report)
    packages = {p.purl: p for p in report.packages}
    entries: list[tuple[Finding, Suppressed | None]] = [
        (f, None) for f in report.findings if f.category != "ImageScan"
    ]
    entries += [(s.finding, s) for s in report.suppressed]
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for f, sup in entries:
        m = index.get((f.id, f.purl)) if f.category == "CVE" else None
        if f.id not in rule_index:
            rule_index[f.id] = len(rules)
            rules.append(_rule(f, m))
        results.append(_result(f, m, rule_index[f.id], _uri(f, packages, report.image.ref), sup))
    driver: dict[str, Any] = {"name": "assay", "informationUri": INFO_URI, "rules": rules}
    if report.analyzer_version:
        driver["version"] = report.analyzer_version
        driver["semanticVersion"] = report.analyzer_version
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "results": results,
        "properties": {
            "imageRef": report.image.ref,
            "imageDigest": report.image.digest,
            "notes": report.notes,
        },
    }
    if report.generated_at:
        run["invocations"] = [{"executionSuccessful": True, "endTimeUtc": report.generated_at}]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(report: Report) -> str:
    """SARIF JSON text."""
    return msgspec.json.format(msgspec.json.encode(to_sarif(report)).decode(), indent=2) + "\n"
