"""One realistic instance of every event, with every field (nested records included) set to a non-default.

``python -m tests.schemas.regen --payloads vN`` encodes these into ``golden/vN/<tag>.json``. Keep them
complete: ``test_schema_golden.py`` fails when a field of any event or record is left at its default
here, so a new field is filled in before the next payload version is frozen.
"""

from __future__ import annotations

from schemas import (
    AdvisoryBuildPublished,
    Alert,
    ContentBundlePublished,
    CoverageGap,
    DeadLetter,
    Detection,
    Distro,
    Event,
    Finding,
    FindingEvent,
    ImageDiscovered,
    ImageInfo,
    ImageRemoved,
    LayerInfo,
    PackageRecord,
    ScanCompleted,
    ScanFailed,
    ScanRequested,
    ScanSkipped,
    Unknown,
    VulnMatch,
)

__all__ = ["SAMPLES"]

_DIGEST = "sha256:25f166467fb3acd01d0e2870534492ceef0409d67a6fb0f89d7ab42f1169ebee"
_REF = f"registry.example.com:5000/team/api@{_DIGEST}"
_LAYER = "sha256:7e9e3e39e5fa4b1585c5f0bd5fbe6b2caea7981e918a298b1dd2836f51ae40dd"
_LAYER_BY = (
    "RUN apt-get install openssl curl python3 nodejs ruby docker-registry liblog4j2-java "
    "libjackson2-databind-java"
)
_SCAN_ID = "01J9Z6W4YQ7M3K8V2R5T0XN1CE"
_ENVIRONMENTS = ["registry:registry.example.com:5000", "cluster:prod-eu"]

_IMAGE = ImageInfo(
    ref="registry.example.com:5000/team/api:1.4.2",
    digest=_DIGEST,
    config_digest="sha256:e5d70abea7e122ab529fcbb4c5187130f7d5b3dffe46368a5f10bae15d7dca9b",
    platform="linux/amd64",
    layers=[
        LayerInfo(
            digest=_LAYER,
            diff_id="sha256:3b1e0e1f6e0a3c8d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5",
            media_type="application/vnd.oci.image.layer.v1.tar+gzip",
            size=92676643,
            created_by=_LAYER_BY,
        )
    ],
    distro=Distro(
        id="debian",
        version_id="12",
        pretty_name="Debian GNU/Linux 12 (bookworm)",
        codename="bookworm",
    ),
    env=["PATH=/usr/local/bin:/usr/bin:/bin", "PYTHONPATH=/opt/pyapp/site-packages"],
    labels={"org.opencontainers.image.title": "assay-fixture-debian"},
)

_PYPI_PACKAGE = PackageRecord(
    name="requests",
    version="2.19.0",
    type="pypi",
    purl="pkg:pypi/requests@2.19.0",
    source_name="requests",
    source_version="2.19.0",
    arch="all",
    licenses=["Apache-2.0"],
    layer_digest=_LAYER,
    layer_created_by="RUN pip install requests==2.19.0",
    locations=["/usr/lib/python3/dist-packages/requests-2.19.0.dist-info/METADATA"],
    found_by="python-installed",
    declared=True,
    owner="pkg:deb/debian/python3-requests@2.28.1%2Bdfsg-1?arch=all&distro=debian-12",
    metadata={"installer": "pip"},
    license_expression="Apache-2.0",
)

_DETECTION = Detection(
    category="InsecureContent",
    rule_id="aws-access-key-id",
    severity="HIGH",
    title="AWS access key id",
    path="/root/.aws/credentials",
    layer_digest=_LAYER,
    evidence="AKIA…[sha256:3f2a9c1e]",
    deleted=True,
    source="assay-secrets",
    package_purl="pkg:pypi/requests@2.19.0",
    verification="unknown",
)

_PACKAGE = PackageRecord(
    name="libcurl4",
    version="7.88.1-10+deb12u5",
    type="deb",
    purl="pkg:deb/debian/libcurl4@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12&upstream=curl",
    source_name="curl",
    source_version="7.88.1-10+deb12u5",
    arch="amd64",
    licenses=["curl"],
    layer_digest=_LAYER,
    layer_created_by=_LAYER_BY,
    locations=["/var/lib/dpkg/status", "/usr/share/doc/libcurl4/copyright"],
)

_MATCH = VulnMatch(
    vuln_id="CVE-2024-2398",
    package_name="libcurl4",
    package_version="7.88.1-10+deb12u5",
    package_purl=_PACKAGE.purl,
    advisory_ids=["x_DEBCL-CVE-2024-2398", "CVE-2024-2398"],
    ecosystem="Debian:12",
    fixed_version="7.88.1-10+deb12u6",
    severity="MEDIUM",
    summary="HTTP/2 push headers memory-leak",
    details="When an application tells libcurl it wants to allow HTTP/2 server push ...",
    layer_digest=_LAYER,
    references=["https://curl.se/docs/CVE-2024-2398.html"],
    cvss_score=5.9,
    cvss_vector="CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H",
    severity_source="cvss_v3",
    known_exploited=True,
    epss=0.00123,
    fix_state="fixed",
)

_FINDING = Finding(
    finding_id="sha256:25f1...:CVE:CVE-2024-2398:libcurl4",
    category="CVE",
    id="CVE-2024-2398",
    severity="MEDIUM",
    title="CVE-2024-2398 - libcurl4",
    description="HTTP/2 push headers memory-leak",
    package_name="libcurl4",
    purl=_PACKAGE.purl,
    installed_version="7.88.1-10+deb12u5",
    fixed_version="7.88.1-10+deb12u6",
    layer_digest=_LAYER,
    environment="cluster:prod-eu",
    ruleset="strict",
    fix_state="fixed",
    known_exploited=True,
    cvss_score=7.5,
    cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    severity_source="debian",
    epss=0.00123,
    path="/var/lib/dpkg/status",
    evidence="libcurl4 7.88.1-10+deb12u5",
    deleted=True,
    suppression="accepted until the base image moves to bookworm 12.6",
    policy_rule="accept-curl-until-rebase",
)

SAMPLES: tuple[Event, ...] = (
    ImageDiscovered(
        environment="cluster:prod-eu",
        registry="registry.example.com:5000",
        repository="team/api",
        digest=_DIGEST,
        tag="1.4.2",
        discovered_at="2024-05-02T10:15:00Z",
        size_bytes=199989057,
        namespace="payments",
        workload_kind="Deployment",
        workload="api",
        container="api",
        pod_count=3,
        ou="payments-eu",
        scannable=False,
        pull_secrets=["payments/regcred"],
    ),
    ImageRemoved(
        environment="cluster:prod-eu",
        digest=_DIGEST,
        repository="team/api",
        registry="registry.example.com:5000",
        removed_at="2024-05-09T17:40:00Z",
    ),
    ScanRequested(
        scan_id=_SCAN_ID,
        digest=_DIGEST,
        image_ref=_REF,
        environments=_ENVIRONMENTS,
        requested_at="2024-05-02T10:15:01Z",
        reason="analyzer-changed",
        sites=["prod-eu"],
    ),
    ScanCompleted(
        scan_id=_SCAN_ID,
        image=_IMAGE,
        packages=[_PYPI_PACKAGE],
        matches=[_MATCH],
        detections=[_DETECTION],
        unknowns=[
            Unknown(
                path="/var/lib/dpkg/status",
                reason="paragraph 4: stanza without a Package field",
                layer_digest=_LAYER,
            )
        ],
        notes=[
            "rpm databases in sqlite format are not read yet",
            "no advisories for PyPI in the database: pypi packages were not checked"
            " [coverage:no-advisories:PyPI]",
        ],
        gaps=[
            CoverageGap(
                kind="no-advisories",
                subject="PyPI",
                message="no advisories for PyPI in the database: pypi packages were not checked",
                severity="LOW",
            )
        ],
        environments=_ENVIRONMENTS,
        analyzer_version="0.1.0",
        completed_at="2024-05-02T10:15:09Z",
    ),
    ScanFailed(
        scan_id=_SCAN_ID,
        digest=_DIGEST,
        image_ref=_REF,
        error=f"layer {_LAYER}: truncated gzip stream: the layer ends before the compressed data does",
        failed_at="2024-05-02T10:15:04Z",
    ),
    ScanSkipped(
        scan_id=_SCAN_ID,
        digest=_DIGEST,
        image_ref=_REF,
        status="too_large",
        reason="the manifest's layers total 2,304 MiB, over max_image_size_mb 2048",
        size_bytes=2415919104,
        skipped_at="2024-05-02T10:15:02Z",
    ),
    FindingEvent(
        digest=_DIGEST,
        image_ref=_REF,
        finding=_FINDING,
        state="changed",
        published_at="2024-05-02T10:15:10Z",
        evaluation="rematch:2024-05-02T10:00:00Z-3f9a2c1d",
    ),
    Alert(
        digest=_DIGEST,
        image_ref=_REF,
        ruleset="strict",
        counts={"CRITICAL": 2, "HIGH": 11, "MEDIUM": 40, "LOW": 9, "UNKNOWN": 31},
        reason="TOTAL 93 >= 25",
        raised_at="2024-05-02T10:15:10Z",
    ),
    AdvisoryBuildPublished(
        build_id="20240502T101500Z-3f9c2a7b1d0e4c65",
        object_key="advisories/20240502T101500Z-3f9c2a7b1d0e4c65/vulndb.sqlite",
        sha256="9b2c5d7e1f3a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c",
        built_at="2024-05-02T10:15:00Z",
        size_bytes=48211968,
        sources=["osv:https://osv-vulnerabilities.storage.googleapis.com", "kev:known_exploited.json"],
        advisories=183220,
        published_at="2024-05-02T10:15:04Z",
    ),
    ContentBundlePublished(
        kind="threat-feeds",
        build_id="20240502T101500Z-5e1d0c9b8a7f6e5d",
        object_key="content/threat-feeds/20240502T101500Z-5e1d0c9b8a7f6e5d/bundle.msgpack",
        sha256="4d6e8f0a2b4c9b2c5d7e1f3a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c",
        built_at="2024-05-02T10:15:00Z",
        size_bytes=1843,
        sources=["https://urlhaus.abuse.ch/downloads/text/", "/etc/assay/feeds/local.txt"],
        files=2,
        published_at="2024-05-02T10:15:04Z",
    ),
    DeadLetter(
        service="policy",
        topic="assay.detections.v1",
        partition=3,
        offset=18234,
        key=_DIGEST,
        payload=b'{"type":"scan.completed","scan_id":"01J9Z6W4YQ7M3K8V2R5T0XN1CE","image":{"ref":',
        error="msgspec.ValidationError: Object missing required field `ref` - at `$.image`",
        failed_at="2024-05-02T10:15:11Z",
    ),
)
