"""What a FileRequest can ask of the walk: execute bits, magic, spooled streams, quiet caps, hard links."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from services.engine.requests import FileRequest
from services.engine.walk import FileHit, LayerWalker, Skipped, walk_image
from services.engine.walk.deliver import _SPOOL_IN_MEMORY
from tests.engine.memimage import Entry, Layer, MemoryImage

BIG = os.urandom(_SPOOL_IN_MEMORY + 300_000)  # past the in-memory spool: lands on disk
JAR = b"PK\x03\x04" + b"\x14\x00" + os.urandom(2000)
ELF = b"\x7fELF\x02\x01\x01" + bytes(100)


class Seen:
    """Records each hit with the content read *during* the callback (a spool is gone afterwards)."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, str, bytes, bool]] = []  # request, path, content, came as a stream
        self.skips: list[Skipped] = []

    def on_hit(self, hit: FileHit) -> None:
        if hit.file is not None:
            assert hit.data == b""
            assert hit.file.seekable()
            hit.file.seek(10)  # a parser may wander; the next reader still starts at 0
            content = hit.file.read(5)
            hit.file.seek(0)
            content = hit.file.read()
        else:
            content = hit.data
        self.hits.append((hit.request, hit.path, content, hit.file is not None))

    def content(self, request: str, path: str) -> bytes:
        found = [c for r, p, c, _ in self.hits if r == request and p == path]
        assert len(found) == 1, (request, path, self.hits)
        return found[0]

    def paths(self, request: str) -> set[str]:
        return {p for r, p, _, _ in self.hits if r == request}


async def _walk(layers: list[Layer], requests: list[FileRequest]) -> Seen:
    seen = Seen()
    await walk_image(MemoryImage(layers, chunk=1 << 20), requests, seen.on_hit, seen.skips.append)
    return seen


async def test_executable_keeps_only_files_with_an_execute_bit() -> None:
    req = FileRequest(name="x", patterns=("**",), executable=True)
    seen = await _walk(
        [
            Layer(
                [
                    Entry("usr/bin/tool", b"#!/bin/sh\n", mode=0o755),
                    Entry("usr/bin/group-only", b"g", mode=0o710),
                    Entry("etc/config", b"plain", mode=0o644),
                    Entry("usr/lib/libx.so", b"lib", mode=0o444),
                ]
            )
        ],
        [req],
    )
    assert seen.paths("x") == {"usr/bin/tool", "usr/bin/group-only"}
    assert seen.skips == []


async def test_magic_keeps_only_files_starting_with_a_prefix() -> None:
    jars = FileRequest(name="jar", patterns=("**/*.jar",), magic=(b"PK\x03\x04",))
    bins = FileRequest(name="bin", patterns=("**",), magic=(b"\x7fELF", b"MZ"))
    plain = FileRequest(name="plain", patterns=("**/*.jar",))
    seen = await _walk(
        [
            Layer(
                [
                    Entry("app/good.jar", JAR),
                    Entry("app/fake.jar", b"not a zip at all"),
                    Entry("app/short.jar", b"PK"),  # shorter than the prefix
                    Entry("app/empty.jar", b""),
                    Entry("bin/prog", ELF),
                    Entry("bin/prog.exe", b"MZ\x90\x00" + bytes(60)),
                ]
            )
        ],
        [jars, bins, plain],
    )
    assert seen.paths("jar") == {"app/good.jar"}
    assert seen.content("jar", "app/good.jar") == JAR  # the prefix bytes are not lost
    assert seen.paths("bin") == {"bin/prog", "bin/prog.exe"}
    assert seen.content("bin", "bin/prog") == ELF
    assert seen.paths("plain") == {"app/good.jar", "app/fake.jar", "app/short.jar", "app/empty.jar"}
    assert seen.skips == []


async def test_spool_hands_over_a_seekable_stream_small_and_past_the_memory_size() -> None:
    spool = FileRequest(name="spool", patterns=("opt/*",), spool=True, max_bytes=64 * 1024 * 1024)
    data = FileRequest(name="data", patterns=("opt/*",), max_bytes=64 * 1024 * 1024)
    seen = await _walk([Layer([Entry("opt/small", b"tiny"), Entry("opt/big", BIG)])], [spool, data])
    assert seen.content("spool", "opt/small") == b"tiny"
    assert hashlib.sha256(seen.content("spool", "opt/big")).digest() == hashlib.sha256(BIG).digest()
    assert seen.content("data", "opt/big") == BIG  # a bytes request on the same file still gets bytes
    assert {(r, s) for r, _, _, s in seen.hits} == {("spool", True), ("data", False)}


async def test_spool_and_magic_on_a_directory_target(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.jar").write_bytes(JAR)
    (tmp_path / "lib" / "b.jar").write_bytes(b"text")
    (tmp_path / "lib" / "big.jar").write_bytes(b"PK\x03\x04" + BIG)
    seen = Seen()
    req = FileRequest(
        name="jar", patterns=("**/*.jar",), magic=(b"PK\x03\x04",), spool=True, max_bytes=1 << 30
    )
    LayerWalker([req], seen.on_hit, seen.skips.append).walk_directory(str(tmp_path))
    assert seen.paths("jar") == {"lib/a.jar", "lib/big.jar"}
    assert seen.content("jar", "lib/big.jar") == b"PK\x03\x04" + BIG


async def test_report_oversize_false_drops_silently_true_reports() -> None:
    quiet = FileRequest(name="quiet", patterns=("opt/*",), max_bytes=100, report_oversize=False)
    loud = FileRequest(name="loud", patterns=("opt/*",), max_bytes=100)
    seen = await _walk([Layer([Entry("opt/large", b"x" * 101), Entry("opt/ok", b"y" * 100)])], [quiet, loud])
    assert seen.paths("quiet") == seen.paths("loud") == {"opt/ok"}
    assert [(s.request, s.path) for s in seen.skips] == [("loud", "opt/large")]


async def test_hard_links_to_spooled_files_are_delivered() -> None:
    req = FileRequest(
        name="jar", patterns=("**/*.jar",), magic=(b"PK\x03\x04",), spool=True, max_bytes=1 << 30
    )
    big_jar = b"PK\x03\x04" + BIG
    seen = await _walk(
        [
            Layer(
                [
                    Entry("usr/share/java/small-1.0.jar", JAR),
                    Entry("usr/share/java/big-2.0.jar", big_jar),
                    Entry("usr/share/java/text-1.0.jar", b"no zip here"),
                    Entry("opt/small.jar", hardlink="usr/share/java/small-1.0.jar"),
                    Entry("opt/big.jar", hardlink="usr/share/java/big-2.0.jar"),
                    Entry(
                        "opt/text.jar", hardlink="usr/share/java/text-1.0.jar"
                    ),  # fails magic like its target
                ]
            )
        ],
        [req],
    )
    assert seen.content("jar", "opt/small.jar") == JAR
    assert seen.content("jar", "opt/big.jar") == big_jar
    assert seen.paths("jar") == {
        "usr/share/java/small-1.0.jar",
        "usr/share/java/big-2.0.jar",
        "opt/small.jar",
        "opt/big.jar",
    }
    assert seen.skips == []


async def test_hard_links_honour_the_cap_of_each_request() -> None:
    wide = FileRequest(name="wide", patterns=("opt/*",))
    narrow = FileRequest(name="narrow", patterns=("opt/b",), max_bytes=3)
    seen = await _walk([Layer([Entry("opt/a", b"12345"), Entry("opt/b", hardlink="opt/a")])], [wide, narrow])
    assert seen.content("wide", "opt/b") == b"12345"
    assert seen.paths("narrow") == set()  # a link member says size 0; the target's size counts
    assert [(s.request, s.path) for s in seen.skips] == [("narrow", "opt/b")]
    assert "5 bytes, over the 3-byte cap" in seen.skips[0].reason


async def test_hard_link_to_a_file_not_read_is_an_unknown_unless_quiet() -> None:
    loud = FileRequest(name="loud", patterns=("opt/link",))
    quiet = FileRequest(name="quiet", patterns=("opt/link",), report_oversize=False)
    seen = await _walk(
        [Layer([Entry("srv/target", b"data"), Entry("opt/link", hardlink="srv/target")])], [loud, quiet]
    )
    assert seen.hits == []
    assert [(s.request, s.path) for s in seen.skips] == [("loud", "opt/link")]
    assert "whose content was not kept" in seen.skips[0].reason


async def test_hard_links_to_spooled_files_past_the_memory_budget_are_served_from_disk() -> None:
    req = FileRequest(name="bin", patterns=("usr/bin/*",), magic=(b"\x7fELF",), spool=True, max_bytes=1 << 30)
    bodies = [b"\x7fELF" + bytes([n]) * (3 * 1024 * 1024) for n in range(4)]  # 12 MiB kept: some rolled over
    entries = [Entry(f"usr/bin/tool{n}", body, mode=0o755) for n, body in enumerate(bodies)]
    links = [Entry(f"usr/bin/alias{n}", hardlink=f"usr/bin/tool{n}", mode=0o755) for n in range(4)]
    seen = await _walk([Layer(entries + links)], [req])
    for n, body in enumerate(bodies):
        assert seen.content("bin", f"usr/bin/alias{n}") == body
    assert seen.skips == []


async def test_accept_drops_files_its_test_rejects_and_a_link_to_one_is_still_served() -> None:
    picky = FileRequest(name="picky", patterns=("**",), accept=lambda path, data: b"KEY" in data)
    links = FileRequest(name="links", patterns=("opt/*",))
    broken = FileRequest(name="broken", patterns=("srv/with-key",), accept=lambda path, data: 1 / 0 > 0)
    seen = await _walk(
        [
            Layer(
                [
                    Entry("srv/plain", b"nothing to see"),
                    Entry("srv/with-key", b"a KEY here"),
                    Entry("opt/link", hardlink="srv/plain"),  # the target was read though picky declined it
                    Entry("srv/big", b"KEY" + bytes(400_000)),  # read head first, then the rest
                ]
            )
        ],
        [picky, links, broken],
    )
    assert seen.paths("picky") == {"srv/with-key", "srv/big"}
    assert seen.content("picky", "srv/big") == b"KEY" + bytes(400_000)
    assert seen.content("links", "opt/link") == b"nothing to see"
    assert seen.paths("broken") == {"srv/with-key"}  # a test that raises lets the file through
    assert seen.skips == []


async def test_excluded_requests_get_nothing_from_that_layer_but_still_hide_lower_copies() -> None:
    content = FileRequest(name="content", patterns=("**",), shadowed=True)
    catalog = FileRequest(name="catalog", patterns=("etc/os-release",))
    layers = [
        Layer([Entry("etc/os-release", b"ID=base"), Entry("srv/a", b"old a"), Entry("srv/gone", b"g")]),
        Layer([Entry("srv/a", b"new a"), Entry("srv/.wh.gone", b""), Entry("etc/os-release", b"ID=top")]),
    ]
    hits: list[FileHit] = []
    starts: list[tuple[int, bool, bool, bool]] = []

    def on_layer(index: int, hidden: Callable[[str], bool]) -> None:
        starts.append((index, hidden("srv/a"), hidden("srv/gone"), hidden("srv/new")))

    await walk_image(
        MemoryImage(layers),
        [content, catalog],
        hits.append,
        lambda skipped: None,
        excluded={1: frozenset({"content"})},
        on_layer=on_layer,
    )
    # the top layer (walked first) hides nothing; under it, srv/a is replaced and srv/gone deleted
    assert starts == [(1, False, False, False), (0, True, True, False)]
    got = sorted((h.request, h.layer_index, h.path, h.data, h.visible) for h in hits)
    assert got == [
        ("catalog", 1, "etc/os-release", b"ID=top", True),  # other requests still served from layer 1
        # nothing of layer 1 for ``content``, yet its paths still hide the lower copies
        ("content", 0, "etc/os-release", b"ID=base", False),
        ("content", 0, "srv/a", b"old a", False),
        ("content", 0, "srv/gone", b"g", False),
    ]
