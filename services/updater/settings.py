"""The advisory updater's settings (``assay service updater``): ``ASSAY_UPDATER_<FIELD>``."""

from __future__ import annotations

from typing import Annotated

import msgspec


class UpdaterConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Where the updater reads advisory data from, how often, and where it works."""

    # how often it refreshes (the seed's "every few hours"); data older than two intervals raises
    # an alert and a finding on the system itself
    interval_s: Annotated[float, msgspec.Meta(gt=0)] = 21600.0
    source: str = ""  # the OSV source (URL or directory); "" = db.source
    kev_source: str = ""  # CISA's KEV catalog (path or URL); "" = the published one for URL sources
    epss_source: str = ""  # FIRST's EPSS CSV (path or URL); "" = none
    cvss_source: str = ""  # CVE JSON 5 records (tree or zip, path or URL) for CVSS; "" = none
    work_dir: str = ""  # where it keeps its working copy; "" = <data.dir>/updater
    # content bundles on the same channel (services/updater/bundles.py), each a comma list of files,
    # directories or URLs; empty: that kind is not published (engines keep their local files)
    feeds_sources: list[str] = []  # threat feeds of URLs, domains and IPs (the netioc analyzer)
    yara_sources: list[str] = []  # YARA rule files (*.yar, *.yara) for the malware analyzer
    hash_list_sources: list[str] = []  # SHA-256 hash lists ("<sha256> [name]" lines) for the malware analyzer
