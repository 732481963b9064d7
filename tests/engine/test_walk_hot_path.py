"""The walk's per-entry shortcuts give the answers the plain rules give.

``RequestMatcher`` tries a glob's regex only on paths with the base name, extension or prefix the
glob needs; ``PathDigests`` uses the secret-keyed ``str`` hash only when the hash seed is random;
the hard-link keep lets the oldest files go first; the tar reader's fast header path (checksum
and numbers as most writers spell them) falls back to the general rules for other spellings.
"""

from __future__ import annotations

import io
import random
import tarfile

import pytest

from services.engine.catalogers.registry import select
from services.engine.content.insecure.analyzer import FILES, MODES
from services.engine.distro import REQUEST as DISTRO_REQUEST
from services.engine.requests import FileRequest, RequestMatcher, glob_matches, globs_regex
from services.engine.walk import FileHit, Skipped, walk_image
from services.engine.walk.deliver import _LINK_ENTRIES
from services.engine.walk.paths import PathDigests, Upper, _secret_str_hash
from services.engine.walk.tarstream import TarStream
from tests.engine.memimage import Entry, Layer, MemoryImage


def _real_requests() -> list[FileRequest]:
    """Every request a default image scan makes with patterns: catalogers, companions, distro, insecure."""
    catalogers = select(("image",))
    companions = [m.request for c in catalogers for m in c.companions]
    return [DISTRO_REQUEST, *companions, *(c.request for c in catalogers), MODES, FILES]


def _paths_for(patterns: list[str], seed: int = 7) -> list[str]:
    """Paths shaped by the patterns themselves (each wildcard filled several ways), plus random mixes."""
    fills = ["", "a", "x.y", "a/b", "requirements-dev", "v1.2", "@scope", "METADATA", ".wh.x"]
    out: set[str] = set()
    rnd = random.Random(seed)
    for pattern in patterns:
        for _ in range(12):
            path = pattern.replace("**", "\0").replace("*", "\1").replace("?", "\2")
            path = path.replace("\0", rnd.choice(fills)).replace("\1", rnd.choice(fills[:7]))
            out.add(path.replace("\2", rnd.choice("ab.-")).strip("/").replace("//", "/"))
    pieces = sorted({part for p in patterns for part in p.split("/")} | {"usr", "lib", "srv", "f.txt"})
    for _ in range(4_000):
        parts = [rnd.choice(pieces).replace("*", rnd.choice(fills[:7])) for _ in range(rnd.randint(1, 6))]
        out.add("/".join(parts).replace("**", "deep/er").replace("?", "q"))
    return sorted(p for p in out if p)


def test_the_matcher_finds_exactly_the_requests_whose_patterns_match() -> None:
    requests = _real_requests()
    plain = [r for r in requests if "**" not in r.patterns]
    patterns = [p for r in requests for p in r.patterns if p != "**"]
    matcher, plain_matcher = RequestMatcher(requests), RequestMatcher(plain)
    regex = {p: globs_regex([p]) for p in patterns}  # one pattern each, tried on every path
    for path in _paths_for(patterns):
        for reqs, m in ((requests, matcher), (plain, plain_matcher)):
            expected = {r.name for r in reqs if any(p == "**" or regex[p].match(path) for p in r.patterns)}
            got = [r.name for r in m.match(path)]
            assert len(got) == len(set(got)), (path, got)
            assert set(got) == expected, path


def test_the_matcher_orders_exact_paths_then_every_path_requests_then_globs() -> None:
    glob = FileRequest(name="glob", patterns=("**/status",))
    everything = FileRequest(name="everything", patterns=("**",))
    exact = FileRequest(name="exact", patterns=("var/lib/dpkg/status",))
    matcher = RequestMatcher([glob, everything, exact])
    assert [r.name for r in matcher.match("var/lib/dpkg/status")] == ["exact", "everything", "glob"]
    assert [r.name for r in matcher.match("opt/status")] == ["everything", "glob"]
    assert [r.name for r in matcher.match("opt/other")] == ["everything"]


@pytest.mark.parametrize(
    ("pattern", "hit", "miss"),
    [
        ("var/lib/dpkg/status.d/*", "var/lib/dpkg/status.d/base", "var/lib/dpkg/status.d/x/y"),
        ("**/*requirements*.txt", "app/dev-requirements-1.txt", "app/requirements.txt/x"),
        ("**/conda-meta/*-*-*.json", "opt/conda/conda-meta/a-1-b.json", "opt/conda/conda-meta/a-1.json"),
        ("opt/**", "opt/a/b", "optx/a"),
        ("**/a?c", "x/abc", "x/a/c"),
        ("**/libpython*.so*", "usr/lib/libpython3.11.so.1.0", "usr/lib/python3/libpython.txt"),
        ("*/php*", "bin/php8.2", "usr/bin/php"),
        ("[x]/*.conf", "[x]/a.conf", "x/a.conf"),
    ],
)
def test_every_kind_of_glob_key(pattern: str, hit: str, miss: str) -> None:
    matcher = RequestMatcher([FileRequest(name="r", patterns=(pattern,))])
    assert [r.name for r in matcher.match(hit)] == ["r"]
    assert matcher.match(miss) == []
    assert glob_matches(pattern, hit)
    assert not glob_matches(pattern, miss)


def test_the_str_hash_is_the_digest_only_when_its_seed_is_random(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    random_seed = _secret_str_hash()
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    assert not _secret_str_hash()
    assert Upper().present.digest is not hash
    monkeypatch.setenv("PYTHONHASHSEED", "random")
    assert _secret_str_hash() == random_seed
    for fast in (False, True):
        digests = PathDigests(b"k" * 16, fast)
        digests.add("usr/bin/env")
        assert "usr/bin/env" in digests
        assert digests.has("usr/bin/env")
        assert "usr/bin/en" not in digests
        assert not digests.has("usr/bin/envx")


async def test_the_hard_link_keep_lets_the_oldest_files_go_first() -> None:
    count = _LINK_ENTRIES + 2
    entries = [Entry(f"srv/f{i:05d}", b"%d" % i) for i in range(count)]
    entries += [
        Entry("opt/first", hardlink="srv/f00000"),
        Entry("opt/last", hardlink=f"srv/f{count - 1:05d}"),
    ]
    entries += [Entry("opt/kept", hardlink="srv/f00002")]
    req = FileRequest(name="all", patterns=("srv/*", "opt/*"))
    hits: list[FileHit] = []
    skips: list[Skipped] = []
    await walk_image(MemoryImage([Layer(entries)]), [req], hits.append, skips.append)
    links = {h.path: h.data for h in hits if h.path.startswith("opt/")}
    assert links == {"opt/last": b"%d" % (count - 1), "opt/kept": b"2"}
    assert [(s.path, "not kept" in s.reason) for s in skips] == [("opt/first", True)]
    assert sum(1 for h in hits if h.path.startswith("srv/")) == count


def test_paths_for_covers_every_pattern_at_least_once() -> None:
    """The path corpus above is not vacuous: each real pattern matches some generated path."""
    patterns = [p for r in _real_requests() for p in r.patterns if p != "**"]
    paths = _paths_for(patterns)
    missing = [p for p in patterns if not any(globs_regex([p]).match(x) for x in paths)]
    assert missing == []


def _member_block(checksum: str, mode: bytes = b"0000644\0", size: bytes = b"00000000005\0") -> bytes:
    """A ustar header for a 5-byte file whose checksum, mode and size fields are spelled as given
    (``checksum`` is a format applied to the header's sum)."""
    block = bytearray(tarfile.TarInfo("f").tobuf(format=tarfile.USTAR_FORMAT))
    block[100:108], block[124:136] = mode, size
    block[148:156] = b" " * 8
    block[148:156] = (checksum % sum(block)).encode().ljust(8, b"\0")
    return bytes(block)


@pytest.mark.parametrize(
    ("checksum", "mode", "size"),
    [
        ("%06o\0 ", b"0000644\0", b"00000000005\0"),  # tarfile, GNU tar, Go
        ("%07o\0", b"000644 \0", b"          5\0"),  # 7 digits; space-padded numbers
        (" %05o\0", b"644\0\0\0\0\0", b"5\0junk\0\0\0\0\0\0"),  # leading space; text after a NUL
    ],
)
def test_header_numbers_in_every_spelling_read_as_tarfile_reads_them(
    checksum: str, mode: bytes, size: bytes
) -> None:
    raw = _member_block(checksum, mode, size) + b"hello".ljust(512, b"\0") + bytes(1024)
    ours = TarStream(io.BytesIO(raw))
    got = [(m.name, m.mode, m.size, ours.read()) for m in ours.members()]
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r|") as tar:
        theirs = [(m.name, m.mode, m.size, tar.extractfile(m).read()) for m in tar]  # type: ignore[union-attr]
    assert got == theirs == [("f", 0o644, 5, b"hello")]


def test_a_later_header_with_a_wrong_checksum_ends_the_stream() -> None:
    good = _member_block("%06o\0 ") + b"hello".ljust(512, b"\0")
    bad = bytearray(_member_block("%06o\0 "))
    bad[0:1] = b"g"  # the name changes, the stored checksum does not
    members = [m.name for m in TarStream(io.BytesIO(good + bytes(bad) + bytes(1024))).members()]
    assert members == ["f"]
