"""Cargo.lock. No crates.io access here, so ``cargo generate-lockfile`` cannot resolve: the fixture is
written in Cargo's lock format version 3 (header comment, ``[[package]]`` with source, checksum,
dependencies) for a workspace with a path member, registry crates and a git crate; the
checksums have the real shape but are not the crates' hashes."""

from pathlib import Path

from services.engine.catalogers.rust.parse_cargo_lock import cargo_to_package, parse_cargo_lock

HERE = Path(__file__).parent


def _parse(rel: str):
    return parse_cargo_lock(rel, (HERE / rel).read_bytes())


def test_registry_and_git_crates_and_workspace_members() -> None:
    result = _parse("testdata/usr/src/rustapp/Cargo.lock")
    assert result.problems == []
    assert [(p.name, p.version) for p in result.packages] == [
        ("libc", "0.2.62"),
        ("maybe-uninit", "2.0.0"),
        ("rustapp", "0.1.0"),
        ("rustapp-core", "0.1.0"),
        ("smallvec", "0.6.9"),
        ("time", "0.1.43"),
        ("tiny-git-dep", "0.2.0"),
        ("winapi", "0.3.8"),
    ]
    workspace = [p.name for p in result.packages if p.metadata.get("role") == "workspace"]
    assert workspace == ["rustapp", "rustapp-core"]  # no source: the workspace's own crates
    smallvec = result.packages[4]
    assert smallvec.declared
    assert smallvec.metadata["source"] == "registry+https://github.com/rust-lang/crates.io-index"
    assert len(smallvec.metadata["checksum"]) == 64
    assert result.packages[6].metadata["source"].startswith("git+https://")
    pkg = cargo_to_package(smallvec, None, "/usr/src/rustapp/Cargo.lock")
    assert (pkg.type, pkg.purl, pkg.declared) == ("cargo", "pkg:cargo/smallvec@0.6.9", True)


def test_broken_lock_is_a_problem() -> None:
    rel = "testdata-corrupt/usr/src/broken/Cargo.lock"
    result = _parse(rel)
    assert result.packages == []
    assert result.problems[0].startswith(f"{rel}: not a valid Cargo.lock:")


def test_crate_without_version_is_a_problem() -> None:
    data = (
        b'version = 3\n[[package]]\nname = "a"\nsource = "registry+x"\n\n'
        b'[[package]]\nname = "b"\nversion = "1.0.0"\nsource = "registry+x"\n'
    )
    result = parse_cargo_lock("c/Cargo.lock", data)
    assert [(p.name, p.version) for p in result.packages] == [("b", "1.0.0")]
    assert result.problems == ["c/Cargo.lock: package #1 has no name or version"]
