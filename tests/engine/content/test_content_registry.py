"""Content analyzers from settings, and the walk's mode and directory requests."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from services.common.errors import ConfigError
from services.engine.content.cache import CachedAnalyzer
from services.engine.content.registry import ANALYZERS, ContentAnalysis, build_analyzers
from services.engine.decompress import ChunkStream
from services.engine.requests import FileRequest
from services.engine.walk import FileHit, LayerWalker, Skipped
from services.settings import load_settings
from tests.engine.memimage import Entry, Layer, MemoryImage, tar_bytes

HERE = Path(__file__).parent


@pytest.mark.parametrize("name", sorted(ANALYZERS))
def test_every_registered_analyzer_has_its_own_tests(name: str) -> None:
    assert list((HERE / name).glob("test_*.py")), f"no tests/engine/content/{name}/test_*.py"


def test_settings_pick_the_analyzers_and_the_cache(tmp_path: Path) -> None:
    env = {"ASSAY_DATA_DIR": str(tmp_path)}
    content = ContentAnalysis.from_settings(load_settings(env))
    assert [a.name for a in content.analyzers] == ["secrets", "insecure", "malware", "netioc", "licenses"]
    assert content.cache is not None
    layers = MemoryImage([Layer([Entry("a", b"")])]).info.layers
    assert all(isinstance(a, CachedAnalyzer) for a in content.bind(layers).analyzers)
    only = load_settings({**env, "ASSAY_CONTENT_ANALYZERS": "secrets", "ASSAY_LAYER_CACHE_ENABLED": "false"})
    content = ContentAnalysis.from_settings(only)
    assert content.cache is None
    assert [a.name for a in content.bind(layers).analyzers] == ["secrets"]
    assert build_analyzers(load_settings({**env, "ASSAY_CONTENT_ANALYZERS": ""})) == ()
    with pytest.raises(ConfigError, match="content_analyzers: unknown"):
        build_analyzers(load_settings({**env, "ASSAY_CONTENT_ANALYZERS": "secrets,nope"}))
    with pytest.raises(ConfigError, match="secret rules"):
        build_analyzers(load_settings({**env, "ASSAY_SECRET_RULES": str(tmp_path / "missing.toml")}))


def _walk(requests: list[FileRequest], *layers: Layer) -> list[FileHit]:
    hits: list[FileHit] = []
    skips: list[Skipped] = []
    walker = LayerWalker(requests, hits.append, skips.append)
    for index in range(len(layers) - 1, -1, -1):  # top layer first, as walk_image does
        walker.walk_tar(ChunkStream(iter([tar_bytes(layers[index].entries)])), index, "test")
    assert skips == []
    return hits


def test_mode_mask_and_directory_requests() -> None:
    req = FileRequest(name="modes", patterns=("**",), mode_mask=0o6002, directories=True, shadowed=True)
    lower = Layer(
        [
            Entry("srv", None, is_dir=True, mode=0o777),
            Entry("srv/ok", b"x", mode=0o644),
            Entry("srv/suid", b"x", mode=0o4755),
            Entry("opt", None, is_dir=True, mode=0o777),
        ]
    )
    upper = Layer([Entry("opt", None, is_dir=True, mode=0o755)])
    hits = _walk([req], lower, upper)
    got = {(h.path, h.visible, stat.S_ISDIR(h.mode), h.mode & 0o7777) for h in hits}
    assert got == {("srv", True, True, 0o777), ("srv/suid", True, False, 0o4755), ("opt", False, True, 0o777)}


def test_the_table_groups_detections_by_category_and_json_carries_them() -> None:
    from schemas.records import Detection, ImageInfo
    from services.cli.formats import formatter
    from services.policy.report import Report
    from services.policy.ruleset import DEFAULT_RULESET, detection_finding

    digest = "sha256:" + "a" * 64
    detections = [
        Detection(
            category="InsecureContent",
            rule_id="github-pat",
            severity="HIGH",
            title="GitHub personal access token (classic)",
            path="/srv/deploy.sh",
            layer_digest="sha256:" + "b" * 64,
            evidence="line 2: ghp_…1fede932",
            deleted=True,
        ),
        Detection(category="InsecureCode", rule_id="IC001-root-user", severity="MEDIUM", title="root"),
        Detection(category="InsecureCode", rule_id="IC005-setuid", severity="HIGH", title="s", path="/x"),
    ]
    # the table renders what the ruleset made of the detections (their findings)
    report = Report(
        image=ImageInfo(ref="oci:x", digest=digest),
        packages=[],
        findings=[detection_finding(DEFAULT_RULESET, d, digest=digest) for d in detections],
        counts={},
        detections=detections,
    )
    table = formatter("table")(report)
    assert "InsecureCode (2):" in table
    assert "InsecureContent (1):" in table
    assert table.index("IC005-setuid") < table.index("IC001-root-user")  # most severe first
    assert "/srv/deploy.sh (deleted later)  bbbbbbbbbbbb  line 2: ghp_…1fede932" in table
    assert "(image config)" in table
    assert '"rule_id": "github-pat"' in formatter("json")(report)
