"""The per-layer result cache: same detections from the cache as from a scan, without rescanning."""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgspec
import pytest

from services.common.errors import LayerError
from services.engine.analyze import analyze
from services.engine.content.cache import (
    CachedAnalyzer,
    DirectoryBackend,
    LayerCache,
    LayerResults,
    MemoryBackend,
    cache_key,
)
from services.engine.content.insecure.analyzer import InsecureCodeAnalyzer
from services.engine.content.secrets.analyzer import SecretsAnalyzer
from services.engine.content.secrets.ruleset import load_ruleset
from services.engine.walk import FileHit
from tests.engine.memimage import Entry, Layer, MemoryImage, tar_bytes

GHP = "ghp_" + "Zq3xK8mP2vL9wR4tY7uB1nC6dF0gH5jS2aE8"


class CountingSecrets(SecretsAnalyzer):
    def __init__(self, **kw: int) -> None:
        super().__init__(load_ruleset(), **kw)
        self.calls = 0
        self.fail_on = ""

    def scan_file(self, hit: FileHit) -> list:  # type: ignore[type-arg]
        self.calls += 1
        if hit.path == self.fail_on:
            raise RuntimeError("analyzer bug")
        return super().scan_file(hit)


def _image(*layers: Layer, ref: str = "mem:test") -> MemoryImage:
    image = MemoryImage(list(layers), ref=ref)  # each layer's real diff_id, or the one it claims
    image.config = {"config": {"User": "app", "Healthcheck": {"Test": ["CMD", "true"]}}}
    return image


def _layers() -> tuple[Layer, Layer]:
    return (
        Layer([Entry("srv/a.sh", f"T={GHP}\n".encode()), Entry("srv/b.txt", b"nothing")]),
        Layer([Entry("srv/.wh.a.sh", b""), Entry("srv/c.env", f"X={GHP}\n".encode())]),
    )


async def _scan(cache: LayerCache, analyzer: CountingSecrets, image: MemoryImage) -> tuple[list, int]:  # type: ignore[type-arg]
    bound = cache.bind([analyzer], image.info.layers)
    result = await analyze(image, [], bound.analyzers)
    bound.commit()
    return result.detections, bound.cached_layers


async def test_a_second_scan_answers_from_the_cache_with_identical_detections() -> None:
    cache = LayerCache(MemoryBackend())
    first, second = CountingSecrets(), CountingSecrets()
    before, hits = await _scan(cache, first, _image(*_layers()))
    assert hits == 0
    assert first.calls > 0
    assert {(d.path, d.deleted) for d in before} == {("/srv/a.sh", True), ("/srv/c.env", False)}
    after, hits = await _scan(cache, second, _image(*_layers()))
    assert hits == 2
    assert second.calls == 0
    assert after == before


async def test_cached_results_do_not_depend_on_what_upper_layers_did() -> None:
    base = Layer([Entry("usr/bin/tool", b"x", mode=0o4755)])
    chmod = Layer([Entry("usr/bin/tool", b"x", mode=0o755)])
    cache = LayerCache(MemoryBackend())
    bound = cache.bind([InsecureCodeAnalyzer()], _image(base, chmod).info.layers)
    hidden = await analyze(_image(base, chmod), [], bound.analyzers)
    bound.commit()
    assert hidden.detections == []
    # the same base layer on its own (another image): the setuid file is visible and comes from the cache
    alone = _image(base)
    bound = cache.bind([InsecureCodeAnalyzer()], alone.info.layers)
    assert bound.cached_layers == 1
    shown = await analyze(alone, [], bound.analyzers)
    assert [(d.rule_id, d.path) for d in shown.detections] == [("IC005-setuid", "/usr/bin/tool")]


async def test_settings_that_change_results_change_the_key() -> None:
    cache = LayerCache(MemoryBackend())
    await _scan(cache, CountingSecrets(), _image(*_layers()))
    other = CountingSecrets(max_bytes=1024)
    _, hits = await _scan(cache, other, _image(*_layers()))
    assert hits == 0
    assert other.calls > 0
    layer = _image(*_layers()).info.layers[0]
    assert cache_key(layer.diff_id, CountingSecrets()) != cache_key(layer.diff_id, other)


async def test_a_layer_whose_scan_failed_is_not_cached() -> None:
    backend = MemoryBackend()
    cache = LayerCache(backend)
    broken = CountingSecrets()
    broken.fail_on = "srv/a.sh"  # in the lower layer (files without a keyword never reach scan_file)
    await _scan(cache, broken, _image(*_layers()))
    assert len(backend.items) == 1  # only the upper layer
    retry = CountingSecrets()
    _, hits = await _scan(cache, retry, _image(*_layers()))
    assert hits == 1
    assert retry.calls > 0


def test_directory_backend_round_trip_and_corrupt_entries_are_misses(tmp_path: Path) -> None:
    backend = DirectoryBackend(tmp_path / "cache")
    key = "ab" + "0" * 62
    assert backend.get(key) is None
    backend.put(key, b'{"x": 1}')
    assert backend.get(key) == b'{"x": 1}'
    assert [p.name for p in (tmp_path / "cache" / "ab").iterdir()] == [f"{key}.json"]  # no temp files left
    image = _image(*_layers())
    analyzer = CountingSecrets()
    backend.put(cache_key(image.info.layers[0].diff_id, analyzer), b"not json")
    assert LayerCache(backend).bind([analyzer], image.info.layers).cached_layers == 0


@pytest.mark.parametrize("diff_id", ["", "sha256:" + "1" * 64])
def test_layers_the_walk_did_not_verify_are_never_cached(diff_id: str) -> None:
    image = _image(*_layers())
    layers = [msgspec.structs.replace(lay, diff_id=diff_id) for lay in image.info.layers]
    backend = MemoryBackend()
    bound = LayerCache(backend).bind([CountingSecrets()], layers)
    assert bound.commit() == 0  # bound but never walked: no layer verified
    assert backend.items == {}


class CountingCached(CachedAnalyzer):
    """Counts what the walk still hands over to the cache wrapper."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.delivered: list[tuple[int, str]] = []

    def scan_file(self, hit: FileHit) -> list:  # type: ignore[type-arg]
        self.delivered.append((hit.layer_index, hit.path))
        return super().scan_file(hit)


async def test_the_files_of_a_cached_layer_are_not_delivered_at_all() -> None:
    backend = MemoryBackend()
    image = _image(*_layers())
    first = CountingCached(CountingSecrets(), backend, image.info.layers)
    before = await analyze(image, [], [first])
    first.commit(image.info.layers)
    assert {layer for layer, _ in first.delivered} == {0, 1}
    # the upper layer alone is dropped from the cache: only it is walked for the analyzer again
    upper_key = cache_key(image.info.layers[1].diff_id, first.inner)
    del backend.items[upper_key]
    again = _image(*_layers())
    second = CountingCached(CountingSecrets(), backend, again.info.layers)
    after = await analyze(again, [], [second])
    assert second.delivered == [(1, "srv/c.env")]  # nothing of layer 0, whose results are cached
    assert after.detections == before.detections  # the cached secret in srv/a.sh is still deleted


async def test_a_cached_lower_layer_is_placed_by_the_layers_above_it_in_each_image() -> None:
    cache = LayerCache(MemoryBackend())
    deleted_above = _image(*_layers())
    await _scan(cache, CountingSecrets(), deleted_above)
    base_alone = _image(_layers()[0])
    detections, hits = await _scan(cache, CountingSecrets(), base_alone)
    assert hits == 1
    assert [(d.path, d.deleted) for d in detections] == [("/srv/a.sh", False)]
    replaced_above = _image(_layers()[0], Layer([Entry("srv/a.sh", b"echo clean\n")]))
    detections, hits = await _scan(cache, CountingSecrets(), replaced_above)
    assert hits == 1
    assert [(d.path, d.deleted) for d in detections] == [("/srv/a.sh", True)]


def _clean_and_lying() -> tuple[Layer, Layer]:
    """A clean layer, and a malicious one whose config entry claims the clean layer's diff_id."""
    clean = Layer([Entry("srv/app.sh", b"echo hello\n")])
    clean_id = MemoryImage([clean]).info.layers[0].diff_id
    return clean, Layer([Entry("srv/app.sh", f"T={GHP}\n".encode())], claim=clean_id)


async def test_a_layer_claiming_a_clean_layers_diff_id_fails_instead_of_getting_its_cache_entry() -> None:
    clean, lying = _clean_and_lying()
    cache = LayerCache(MemoryBackend())
    detections, _ = await _scan(cache, CountingSecrets(), _image(clean, ref="reg/clean:1"))
    assert detections == []
    image = _image(lying, ref="reg/evil:1")
    bound = cache.bind([CountingSecrets()], image.info.layers)
    assert bound.cached_layers == 1  # the claim alone finds the clean entry ...
    with pytest.raises(LayerError) as err:
        await analyze(image, [], bound.analyzers)  # ... but the walk refuses the layer
    actual = "sha256:" + hashlib.sha256(tar_bytes(lying.entries)).hexdigest()
    layer = image.info.layers[0]
    message = str(err.value)
    assert "reg/evil:1" in message
    assert layer.digest in message
    assert f"claims {layer.diff_id}" in message
    assert actual in message


async def test_a_clean_image_never_inherits_what_a_lying_layer_found() -> None:
    clean, lying = _clean_and_lying()
    backend = MemoryBackend()
    cache = LayerCache(backend)
    evil = _image(lying)
    bound = cache.bind([CountingSecrets()], evil.info.layers)
    with pytest.raises(LayerError, match="diff_id mismatch"):
        await analyze(evil, [], bound.analyzers)
    assert bound.commit() == 0  # even a caller that commits after the failure stores nothing
    assert backend.items == {}
    detections, hits = await _scan(cache, CountingSecrets(), _image(clean))
    assert (detections, hits) == ([], 0)  # scanned itself, not answered from the lying layer's scan
    stored = [msgspec.json.decode(v, type=LayerResults) for v in backend.items.values()]
    assert [(r.diff_id, r.files) for r in stored] == [(_image(clean).info.layers[0].diff_id, {})]
