"""Malicious URLs and IPs: addresses found in files, looked up in the loaded threat feeds.

Text files are searched for URLs, host names and IPv4/IPv6 addresses; binaries (a NUL
byte in the first 8 KiB) only for URLs, which is what printable strings in binaries
carry reliably. With no feed loaded the analyzer asks the walk for nothing at all (and
``assay scan`` says so in a note). Which files reach ``scan_bytes`` is decided first by one
Hyperscan pass over all feeds (``prefilter.py``): most files cost that pass and nothing else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from schemas.records import Detection
from services.engine.content.interface import ContentAnalyzer
from services.engine.content.netioc.feeds import FeedIndex
from services.engine.content.netioc.patterns import HOST as _HOST
from services.engine.content.netioc.patterns import IPV4 as _IPV4
from services.engine.content.netioc.patterns import IPV6 as _IPV6
from services.engine.content.netioc.patterns import URL as _URL
from services.engine.content.netioc.prefilter import IndicatorPrefilter
from services.engine.requests import FileRequest
from services.engine.walk import FileHit

_BINARY_SNIFF = 8192


class NetIocAnalyzer(ContentAnalyzer):
    """MaliciousURL and MaliciousIP detections against a feed index."""

    name = "netioc"
    version = "1"

    def __init__(self, feeds: FeedIndex, max_bytes: int = 8 * 1024 * 1024) -> None:
        self.feeds = feeds
        self._requests = (
            (
                FileRequest(
                    name="netioc-files",
                    patterns=("**",),
                    max_bytes=max_bytes,
                    shadowed=True,
                    report_oversize=False,
                    accept=IndicatorPrefilter(feeds),
                ),
            )
            if feeds
            else ()
        )

    @property
    def requests(self) -> Sequence[FileRequest]:
        return self._requests

    def fingerprint(self) -> str:
        return self.feeds.digest

    def scan_file(self, hit: FileHit) -> list[Detection]:
        return self.scan_bytes(hit.data)

    def scan_bytes(self, data: bytes) -> list[Detection]:
        found: dict[tuple[str, str], Detection] = {}
        binary = b"\0" in data[:_BINARY_SNIFF]
        url_hosts: set[str] = set()
        if b"://" in data:
            for m in _URL.finditer(data):
                url = m.group().decode("ascii", "replace").rstrip(".,;:")
                try:
                    host = (urlsplit(url).hostname or "").lower()
                except ValueError:
                    continue
                url_hosts.add(host)
                if (feed := self.feeds.url(url)) is not None:
                    found.setdefault(("url", url), _url_detection(url, feed, "listed URL"))
                elif host and (feed := self.feeds.domain(host)) is not None:
                    found.setdefault(("url", url), _url_detection(url, feed, f"URL on listed domain {host}"))
                elif host and (feed := self.feeds.address(host)) is not None:
                    found.setdefault(("ip", host), _ip_detection(host, feed))
        if binary:
            return list(found.values())
        for m in _HOST.finditer(data):
            host = m.group().decode("ascii").lower()
            if host not in url_hosts and (feed := self.feeds.domain(host)) is not None:
                found.setdefault(("domain", host), _url_detection(host, feed, "listed domain"))
        for pattern in (_IPV4, _IPV6) if b":" in data else (_IPV4,):
            for m in pattern.finditer(data):
                text = m.group().decode("ascii")
                try:
                    ipaddress.ip_address(text)
                except ValueError:
                    continue
                if (feed := self.feeds.address(text)) is not None:
                    found.setdefault(("ip", text), _ip_detection(text, feed))
        return list(found.values())


def _url_detection(value: str, feed: str, why: str) -> Detection:
    return Detection(
        category="MaliciousURL",
        rule_id="feed-url",
        severity="HIGH",
        title=f"{why}: {value[:200]}",
        evidence=value[:200],
        source=feed,
    )


def _ip_detection(address: str, feed: str) -> Detection:
    return Detection(
        category="MaliciousIP",
        rule_id="feed-ip",
        severity="HIGH",
        title=f"listed IP address {address}",
        evidence=address,
        source=feed,
    )
