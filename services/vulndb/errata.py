"""An RPM distribution's errata reported by the CVEs they fix, as Trivy reports them.

Red Hat's RHSA, AlmaLinux's ALSA, Rocky's RLSA, Oracle's ELSA and Amazon's ALAS are one
advisory per update, naming the CVEs the update fixes in ``related`` (``updateinfo.py``,
``elsa.py`` and OSV's own records). Trivy's database stores them per CVE (the erratum's fix,
rating and references under each CVE id, the erratum's id as the vendor id), so its findings
on these distributions are CVE ids. ``per_cve`` does the same to one package's match: one
match per CVE, named by it, with the erratum's id kept in ``advisory_ids``; two errata fixing
one CVE become one finding (the matcher merges them). An erratum that names no CVE stays a
finding under its own id (Trivy's Oracle source does the same; its Amazon and AlmaLinux
sources drop such errata, which would hide a fix the vendor published).

The finding id (``services.policy.ruleset.finding_id``) is derived from ``vuln_id`` and the
package, so ``assay scan`` and the pipeline, which both match with ``match_packages``, give the
same CVE the same id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import msgspec

from schemas.records import VulnMatch
from services.vulndb.versions import SCHEMES, ecosystem_base

__all__ = ["per_cve"]

_RPM: Final = SCHEMES["Red Hat"]


def _cves(ids: list[str], related: Mapping[str, tuple[str, ...]]) -> list[str]:
    return sorted({c for i in ids for c in (i, *related.get(i, ())) if c.startswith("CVE-")})


def per_cve(match: VulnMatch, related: Mapping[str, tuple[str, ...]]) -> list[VulnMatch]:
    """``match`` as one match per CVE when it is an RPM distribution's erratum naming CVEs.

    ``related`` maps advisory ids to the CVE ids they name. Any other match is returned as is.
    """
    if match.vuln_id.startswith("CVE-") or SCHEMES.get(ecosystem_base(match.ecosystem)) is not _RPM:
        return [match]
    cves = _cves(match.advisory_ids, related)
    if not cves:
        return [match]
    return [
        msgspec.structs.replace(match, vuln_id=cve, advisory_ids=sorted({cve, *match.advisory_ids}))
        for cve in cves
    ]
