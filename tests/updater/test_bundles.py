"""Content bundles: the updater publishes threat feeds, YARA rules and hash lists on the advisory
channel, and an engine's content analyzers switch to them without a restart."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from schemas import decode_event
from schemas.events import AdvisoryBuildPublished, ContentBundlePublished
from schemas.topics import Topics
from services.common.bundles import BundleFile, ContentBundle, current_bundle, pointer_key, store_bundle
from services.common.bus.memory import MemoryBus
from services.common.objectstore import DirectoryObjectStore
from services.engine.content.bundles import ContentBundles, ContentNow
from services.engine.content.malware.analyzer import MalwareAnalyzer
from services.engine.content.netioc.analyzer import NetIocAnalyzer
from services.engine.content.registry import ContentAnalysis
from services.engine.worker import EngineDeps
from services.settings import Settings, load_settings
from services.updater.bundles import BundlePlan, collect_files, publish_bundles

NETIOC = Path(__file__).parents[1] / "engine" / "content" / "netioc" / "testdata"
EVIL = b"see http://evil.assay-fixture.invalid/payload for details"
MARKER = b"ASSAY-BUNDLE-TEST-MARKER-91c2"
YARA_RULE = b'rule assay_bundle_marker { strings: $m = "ASSAY-BUNDLE-TEST-MARKER-91c2" condition: $m }\n'


@pytest.fixture
async def bus() -> AsyncIterator[MemoryBus]:
    b = MemoryBus()
    await b.start()
    yield b
    await b.stop()


def _settings(tmp_path: Path, **env: str) -> Settings:
    return load_settings(environ={"ASSAY_DATA_DIR": str(tmp_path / "data"), **env})


def _announced(bus: MemoryBus) -> list[ContentBundlePublished]:
    events = [decode_event(Topics.ADVISORIES, m.value) for m in bus.records(Topics.ADVISORIES)]
    return [e for e in events if isinstance(e, ContentBundlePublished)]


def _engine(tmp_path: Path, objects: DirectoryObjectStore) -> ContentBundles:
    settings = _settings(tmp_path)  # no local feeds, rules or hash list
    return ContentBundles(settings, ContentAnalysis.from_settings(settings), objects, tmp_path / "bundles")


def _detections(bundles: ContentBundles | ContentNow, data: bytes) -> set[str]:
    now = bundles.current() if isinstance(bundles, ContentBundles) else bundles
    out: set[str] = set()
    for analyzer in now.content.analyzers:
        if isinstance(analyzer, (NetIocAnalyzer, MalwareAnalyzer)):
            out |= {d.rule_id for d in analyzer.scan_bytes(data)}
    return out


def test_the_plan_has_the_kinds_with_sources(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        ASSAY_UPDATER_FEEDS_SOURCES=f"{NETIOC},https://feeds.example/urlhaus.csv",
        ASSAY_UPDATER_HASH_LIST_SOURCES="/etc/assay/hashes.txt",
    )
    plan = BundlePlan.from_settings(settings)
    assert plan.sources == {
        "threat-feeds": [str(NETIOC), "https://feeds.example/urlhaus.csv"],
        "hash-list": ["/etc/assay/hashes.txt"],
    }
    assert BundlePlan.from_settings(_settings(tmp_path)).sources == {}


async def test_a_directory_and_a_file_make_one_bundle_of_every_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "b.yar").write_bytes(YARA_RULE)
    (rules / "README.md").write_text("not a rule")
    (rules / ".hidden.yar").write_bytes(YARA_RULE)
    extra = tmp_path / "a.yara"
    extra.write_bytes(YARA_RULE.replace(b"assay_bundle_marker", b"other"))
    bundle = await collect_files("yara-rules", [str(rules), str(extra)])
    assert [f.name for f in bundle.files] == ["a.yara", "b.yar"]
    feeds = await collect_files("threat-feeds", [str(NETIOC)])
    assert [f.name for f in feeds.files] == ["domains.txt", "drop.txt", "urlhaus.csv"]
    assert feeds.files[0].data == (NETIOC / "domains.txt").read_bytes()


async def test_publishing_stores_points_and_announces_once_per_change(
    tmp_path: Path, bus: MemoryBus, caplog: pytest.LogCaptureFixture
) -> None:
    objects = DirectoryObjectStore(tmp_path / "objects")
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "one.txt").write_text("evil.assay-fixture.invalid\n")
    plan = BundlePlan(sources={"threat-feeds": [str(feeds)], "hash-list": [str(tmp_path / "absent.txt")]})

    with caplog.at_level(logging.ERROR):
        first = await publish_bundles(plan, bus, objects)
    assert [b.kind for b in first] == ["threat-feeds"]  # the unreadable hash list did not stop it
    assert "hash-list bundle not refreshed" in caplog.text
    assert "absent.txt" in caplog.text
    pointed = await current_bundle(objects, "threat-feeds")
    assert pointed is not None
    assert pointed.build_id == first[0].build_id
    stored = await objects.get(first[0].object_key)
    assert stored is not None
    assert hashlib.sha256(stored).hexdigest() == first[0].sha256
    assert [b.build_id for b in _announced(bus)] == [first[0].build_id]
    assert _announced(bus)[0].published_at
    assert _announced(bus)[0].files == 1

    assert await publish_bundles(plan, bus, objects) == []  # the same files: nothing new
    (feeds / "two.txt").write_text("198.51.100.7\n")
    second = await publish_bundles(plan, bus, objects)
    assert len(second) == 1
    assert second[0].build_id != first[0].build_id
    assert second[0].files == 2
    # (the bus keeps records partition by partition: by key, not in publishing order)
    assert {b.build_id for b in _announced(bus)} == {first[0].build_id, second[0].build_id}


def test_advisory_build_payloads_still_decode_on_the_shared_topic() -> None:
    old = b'{"type":"advisory.build","build_id":"b1","object_key":"advisories/b1/vulndb.sqlite",'
    old += b'"sha256":"00","built_at":"2024-05-02T10:15:00Z"}'
    assert isinstance(decode_event(Topics.ADVISORIES, old), AdvisoryBuildPublished)
    bad = b'{"type":"content.bundle","kind":"wordlist","build_id":"b","object_key":"k","sha256":"0",'
    bad += b'"built_at":"2024-05-02T10:15:00Z"}'
    with pytest.raises(msgspec.ValidationError):  # the kind is a closed vocabulary
        decode_event(Topics.ADVISORIES, bad)


async def test_an_engine_switches_its_analyzers_to_new_bundles_and_a_running_scan_keeps_its_own(
    tmp_path: Path,
) -> None:
    objects = DirectoryObjectStore(tmp_path / "objects")
    engine = _engine(tmp_path, objects)
    assert await engine.step() is False  # nothing published: the local (absent) files
    before = engine.current()
    assert _detections(engine, EVIL) == set()
    assert [n for n in before.content.notes() if n.startswith("no threat feeds loaded")]  # a scan says so

    feeds = ContentBundle(
        kind="threat-feeds", files=[BundleFile("domains.txt", (NETIOC / "domains.txt").read_bytes())]
    )
    rules = ContentBundle(kind="yara-rules", files=[BundleFile("marker.yar", YARA_RULE)])
    digest = hashlib.sha256(MARKER).hexdigest()
    hashes = ContentBundle(
        kind="hash-list", files=[BundleFile("list.txt", f"{digest} marker-file\n".encode())]
    )
    for bundle in (feeds, rules, hashes):
        await store_bundle(objects, bundle, ["test"])
    assert await engine.step() is True
    assert _detections(engine, EVIL) == {"feed-url"}
    assert engine.current().content.notes() == []
    assert _detections(engine, MARKER) == {"yara:marker:assay_bundle_marker", "sha256-blocklist"}
    assert engine.current().version != before.version  # dedupe sees the analyzers changed
    assert _detections(before, EVIL) == set()  # what a scan that started before still uses
    assert await engine.step() is False  # nothing newer

    # an isolated scan's child builds its analyzers from the settings it is handed: the same files
    child = ContentAnalysis.from_settings(engine.current().settings)
    netioc = next(a for a in child.analyzers if isinstance(a, NetIocAnalyzer))
    assert {d.rule_id for d in netioc.scan_bytes(EVIL)} == {"feed-url"}


async def test_a_bundle_that_does_not_compile_or_was_altered_leaves_the_current_analyzers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    objects = DirectoryObjectStore(tmp_path / "objects")
    engine = _engine(tmp_path, objects)
    await store_bundle(objects, ContentBundle(kind="yara-rules", files=[BundleFile("ok.yar", YARA_RULE)]), [])
    assert await engine.step() is True
    good = engine.current()

    broken = ContentBundle(kind="yara-rules", files=[BundleFile("bad.yar", b"rule broken { condition: }")])
    await store_bundle(objects, broken, [])
    with caplog.at_level(logging.ERROR):
        assert await engine.step() is False
    assert "do not compile" in caplog.text
    assert engine.current() is good

    published, _ = await store_bundle(
        objects, ContentBundle(kind="hash-list", files=[BundleFile("h.txt", b"0" * 64 + b"\n")]), []
    )
    (tmp_path / "objects" / published.object_key).write_bytes(b"tampered")
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        assert await engine.step() is False
    assert "SHA-256" in caplog.text
    assert engine.current() is good
    assert (await objects.get(pointer_key("hash-list"))) is not None


async def test_an_empty_feeds_bundle_says_no_feeds_are_loaded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    objects = DirectoryObjectStore(tmp_path / "objects")
    engine = _engine(tmp_path, objects)
    await store_bundle(
        objects, ContentBundle(kind="threat-feeds", files=[BundleFile("empty.txt", b"# none\n")]), []
    )
    with caplog.at_level(logging.WARNING):
        assert await engine.step() is True
    assert "no threat feeds loaded" in caplog.text
    assert len(engine.current().content.notes()) == 1  # and every scan's notes say so


async def test_each_scan_the_worker_starts_takes_the_current_analyzers(tmp_path: Path) -> None:
    objects = DirectoryObjectStore(tmp_path / "objects")
    engine = _engine(tmp_path, objects)
    base = engine.current()
    deps = EngineDeps(
        settings=base.settings, catalogers=(), vulndb=None, content=base.content, bundles=engine
    )
    assert deps.content_now() == (base.settings, base.content, base.version)
    await store_bundle(objects, ContentBundle(kind="yara-rules", files=[BundleFile("ok.yar", YARA_RULE)]), [])
    assert await engine.step() is True
    settings, content, version = deps.content_now()
    assert settings.malware.yara_rules_dir != base.settings.malware.yara_rules_dir
    assert content is engine.current().content
    assert version == engine.current().version != base.version
