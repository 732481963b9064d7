"""Threat feeds of malicious URLs, domains and IP addresses, in the formats feeds ship in.

* one entry a line: a URL, a domain or an IP address (``#`` and ``;`` comments);
* CIDR lists (``203.0.113.0/24``, Spamhaus DROP style ``1.2.3.0/24 ; SBL123``);
* URLhaus-style CSV (``"id","dateadded","url","url_status",...`` with ``#`` comment lines).

``load_feed`` is a pure function from a feed's name and bytes to entries plus problems;
``FeedIndex`` answers lookups for the analyzer. ``assay feeds update`` stores the parsed
feeds as one JSON file so scans need no network.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
from bisect import bisect_right
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class FeedEntries(msgspec.Struct, kw_only=True):
    """What one feed lists."""

    name: str
    urls: list[str] = []
    domains: list[str] = []
    networks: list[str] = []  # CIDR text; single addresses as /32 or /128
    problems: list[str] = []


def _port_text(netloc: str) -> str:
    """The port part of ``[user@]host[:port]`` as written ("" when none), without parsing it as a
    number: ``urlsplit(...).port`` raises on ``host:abc``, which real files contain."""
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):  # [v6 address]:port
        return hostport.partition("]")[2].removeprefix(":")
    return hostport.partition(":")[2]


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no trailing slash: the form URLs are compared in.

    Never raises: a port that is not a number (``http://host:port/``) is kept as written.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").lower()
    port = _port_text(parts.netloc)
    if port.isdigit():
        port = str(int(port)) if int(port) else ""
    netloc = host + (f":{port}" if port else "")
    path = parts.path.rstrip("/")
    return f"{parts.scheme.lower()}://{netloc}{path}" + (f"?{parts.query}" if parts.query else "")


def _network(text: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _add(entries: FeedEntries, value: str) -> bool:
    value = value.strip()
    if not value:
        return True
    if "://" in value:
        entries.urls.append(normalize_url(value))
        return True
    if (net := _network(value)) is not None:
        entries.networks.append(str(net))
        return True
    if "." in value and all(part and len(part) < 64 for part in value.split(".")) and " " not in value:
        entries.domains.append(value.lower().rstrip("."))
        return True
    return False


def load_feed(name: str, data: bytes) -> FeedEntries:
    """Parse one feed; lines that are none of URL, domain, address or CIDR become problems."""
    text = data.decode("utf-8", errors="replace")
    entries = FeedEntries(name=name)
    body = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if body and body[0].startswith('"') and body[0].count(",") >= 2:
        for lineno, row in enumerate(csv.reader(io.StringIO("\n".join(body))), 1):
            url = next((cell for cell in row if "://" in cell), "")
            if not url or not _add(entries, url):
                entries.problems.append(f"{name}: CSV row {lineno}: no URL")
        return entries
    for lineno, line in enumerate(text.splitlines(), 1):
        value = line.split("#", 1)[0].split(";", 1)[0].strip()
        if value and not _add(entries, value.split()[0]):
            entries.problems.append(
                f"{name}: line {lineno}: not a URL, domain, IP address or CIDR: {value[:80]!r}"
            )
    return entries


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


class FeedIndex:
    """Lookups over every loaded feed: exact URLs, domains (and their subdomains), IP networks."""

    def __init__(self, feeds: list[FeedEntries], store: Path | None = None) -> None:
        self.store = store  # the feed store it was read from, if any (compiled automata are kept beside it)
        self.digest = hashlib.sha256(msgspec.json.encode(feeds)).hexdigest()[:16]  # a cache-key part
        self.urls: dict[str, str] = {}
        self.domains: dict[str, str] = {}
        ranges: list[tuple[int, int, int, str]] = []  # (version, first, last, feed)
        for feed in feeds:
            for url in feed.urls:
                self.urls.setdefault(url, feed.name)
            for domain in feed.domains:
                self.domains.setdefault(domain, feed.name)
            for text in feed.networks:
                net = ipaddress.ip_network(text, strict=False)
                ranges.append((net.version, int(net.network_address), int(net.broadcast_address), feed.name))
        ranges.sort()
        merged: list[tuple[int, int, int, str]] = []  # disjoint, so one bisect finds the only candidate
        for version, first, last, source in ranges:
            if merged and merged[-1][0] == version and first <= merged[-1][2] + 1:
                prev = merged[-1]
                merged[-1] = (version, prev[1], max(prev[2], last), prev[3])
            else:
                merged.append((version, first, last, source))
        self._ranges = merged
        self._starts = [(v, first) for v, first, _, _ in merged]
        self.hosts_of_urls = {h for u in self.urls if (h := _host_of(u))}  # what the prefilter looks for

    def has_networks(self, version: int) -> bool:
        """Whether any feed lists an address or network of IP ``version`` (4 or 6)."""
        return any(v == version for v, *_ in self._ranges)

    def __bool__(self) -> bool:
        return bool(self.urls or self.domains or self._ranges)

    def url(self, url: str) -> str | None:
        return self.urls.get(normalize_url(url))

    def domain(self, host: str) -> str | None:
        """The feed listing ``host`` or one of its parent domains."""
        labels = host.lower().rstrip(".").split(".")
        for i in range(len(labels) - 1):
            if (feed := self.domains.get(".".join(labels[i:]))) is not None:
                return feed
        return None

    def address(self, text: str) -> str | None:
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            return None
        value = int(addr)
        i = bisect_right(self._starts, (addr.version, value)) - 1
        if i < 0:
            return None
        version, first, last, feed = self._ranges[i]
        return feed if version == addr.version and first <= value <= last else None
